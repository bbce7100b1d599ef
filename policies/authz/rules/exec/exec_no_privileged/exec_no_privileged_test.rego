package authz.rules.exec.exec_no_privileged_test

import data.authz.rules.exec.exec_no_privileged as rule

_exec(privileged) := {"route": {"endpoint": "container.exec"}, "exec": {"container": "web", "privileged": privileged}}

test_allow_plain_exec if {
	count(rule.deny) == 0 with input as _exec(false)
}

test_deny_privileged_exec if {
	count(rule.deny) == 1 with input as _exec(true)
}
