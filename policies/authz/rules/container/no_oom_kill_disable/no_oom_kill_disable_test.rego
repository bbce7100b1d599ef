package authz.rules.container.no_oom_kill_disable_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_oom_kill_disable as rule

test_allow_default if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as fixtures.create({"resources": {"oom_kill_disable": false}})
}

test_deny_disabled if {
	count(rule.deny) == 1 with input as fixtures.create({"resources": {"oom_kill_disable": true}})
}
