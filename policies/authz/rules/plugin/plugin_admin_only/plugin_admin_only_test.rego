package authz.rules.plugin.plugin_admin_only_test

import data.authz.rules.plugin.plugin_admin_only as rule

_req(endpoint, method, user) := {
	"route": {"endpoint": endpoint, "write": method != "GET"},
	"request": {"method": method, "path": "/plugins/dockward/disable"},
	"user": {"name": user},
}

test_allow_reads if {
	count(rule.deny) == 0 with input as _req("plugin.list", "GET", "")
}

test_deny_writes_for_non_admins if {
	count(rule.deny) == 1 with input as _req("plugin.disable", "POST", "")
	count(rule.deny) == 1 with input as _req("plugin.delete", "DELETE", "bob")
	count(rule.deny) == 1 with input as _req("plugin.pull", "POST", "bob") with data.authz_config.admins as ["ops"]
}

test_allow_admin if {
	count(rule.deny) == 0 with input as _req("plugin.disable", "POST", "ops") with data.authz_config.admins as ["ops"]
}
