package authz.rules.container.drop_all_caps_test

import data.authz.lib.fixtures
import data.authz.rules.container.drop_all_caps as rule

test_allow_drop_all if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_deny_no_drop if {
	count(rule.deny) == 1 with input as fixtures.create({"cap_drop": []})
}

test_deny_partial_drop if {
	count(rule.deny) == 1 with input as fixtures.create({"cap_drop": ["NET_ADMIN", "SYS_ADMIN"]})
}
