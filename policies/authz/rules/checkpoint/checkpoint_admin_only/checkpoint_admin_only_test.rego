package authz.rules.checkpoint.checkpoint_admin_only_test

import data.authz.rules.checkpoint.checkpoint_admin_only as rule

_req(endpoint, query, user) := {
	"route": {"endpoint": endpoint, "id": "web"},
	"request": {"query": query},
	"user": {"name": user},
}

test_deny_for_non_admins if {
	count(rule.deny) == 1 with input as _req("checkpoint.create", {}, "")
	count(rule.deny) == 1 with input as _req("checkpoint.delete", {}, "bob") with data.authz_config.admins as ["ops"]
	count(rule.deny) == 1 with input as _req("container.start", {"checkpoint": ["c1"]}, "")
	count(rule.deny) == 1 with input as _req("container.start", {"checkpoint-dir": ["/tmp/crafted"]}, "")
	count(rule.deny) == 2 with input as _req("container.start", {"checkpoint": ["c1"], "checkpoint-dir": ["/x"]}, "")
}

test_allow_plain_start_and_list if {
	count(rule.deny) == 0 with input as _req("container.start", {}, "")
	count(rule.deny) == 0 with input as _req("container.start", {"detachKeys": ["ctrl-x"]}, "")
	count(rule.deny) == 0 with input as _req("checkpoint.list", {}, "")
}

test_allow_admin if {
	count(rule.deny) == 0 with input as _req("container.start", {"checkpoint": ["c1"]}, "ops") with data.authz_config.admins as ["ops"]
	count(rule.deny) == 0 with input as _req("checkpoint.create", {}, "ops") with data.authz_config.admins as ["ops"]
}
