package authz.rules.swarm.swarm_admin_only_test

import data.authz.rules.swarm.swarm_admin_only as rule

_req(endpoint, method, user) := {
	"route": {"endpoint": endpoint, "write": _write(method)},
	"request": {"method": method, "path": "/swarm"},
	"user": {"name": user},
}

test_deny_for_non_admins if {
	cases := [
		["swarm.init", "POST"], ["swarm.join", "POST"], ["swarm.leave", "POST"],
		["swarm.update", "POST"], ["swarm.unlock", "POST"],
		["swarm.inspect", "GET"], ["swarm.unlockkey", "GET"],
		["node.update", "POST"], ["node.delete", "DELETE"],
	]
	every c in cases {
		count(rule.deny) == 1 with input as _req(c[0], c[1], "")
		count(rule.deny) == 1 with input as _req(c[0], c[1], "bob") with data.authz_config.admins as ["ops"]
	}
}

test_allow_admin if {
	every e in ["swarm.init", "swarm.inspect", "swarm.unlockkey", "node.update"] {
		count(rule.deny) == 0 with input as _req(e, "POST", "ops") with data.authz_config.admins as ["ops"]
	}
}

# docker info, node ls and service ls stay open: none of them carries a
# join token or the unlock key.
test_allow_reads_without_secrets if {
	every e in ["system.info", "node.list", "node.inspect", "service.list", "task.list"] {
		count(rule.deny) == 0 with input as _req(e, "GET", "")
	}
}

default _write(_) := true

_write(method) := false if method in {"GET", "HEAD"}
