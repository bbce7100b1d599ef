package authz.rules.exec.exec_non_root_user_test

import data.authz.rules.exec.exec_non_root_user as rule

_exec(raw, name, uid, source) := {
	"route": {"endpoint": "container.exec"},
	"exec": {"container": "web", "privileged": false, "user": {"raw": raw, "name": name, "uid": uid, "source": source}},
}

test_allow_non_root if {
	count(rule.deny) == 0 with input as _exec("1000", "1000", 1000, "request")
	count(rule.deny) == 0 with input as _exec("1000:1000", "1000", 1000, "container")
	count(rule.deny) == 0 with input as _exec("app", "app", 1000, "request")
}

test_deny_root_forms if {
	count(rule.deny) == 1 with input as _exec("0", "0", 0, "request")
	count(rule.deny) == 1 with input as _exec("00", "00", 0, "request")
	count(rule.deny) == 1 with input as _exec("root", "root", null, "request")
	count(rule.deny) == 1 with input as _exec("", "", null, "image")
}

test_deny_unresolved_name if {
	count(rule.deny) == 1 with input as _exec("ghost", "ghost", null, "request")
}
