package authz.rules.container.no_privileged_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_privileged as rule

test_allow_unprivileged if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_deny_privileged if {
	count(rule.deny) == 1 with input as fixtures.create({"privileged": true})
}

test_deny_message_and_fix if {
	r := rule.deny with input as fixtures.create({"privileged": true})
	[[v.msg, v.fix, v.severity] | some v in r] == [["container is privileged", "remove --privileged", "critical"]]
}
