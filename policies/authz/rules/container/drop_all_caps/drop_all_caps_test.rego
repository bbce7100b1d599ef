package authz.rules.container.drop_all_caps_test

import data.authz.lib.fixtures
import data.authz.rules.container.drop_all_caps as rule

test_allow_drop_all if {
	r := rule.deny with input as fixtures.create_compliant
	r == set()
}

test_allow_all_among_others if {
	# The plugin normalizes --cap-drop all / CAP_ALL to ALL and sorts the list.
	count(rule.deny) == 0 with input as fixtures.create({"cap_drop": ["ALL", "NET_ADMIN"]})
}

test_deny_no_drop if {
	r := rule.deny with input as fixtures.create({"cap_drop": []})
	[v.msg | some v in r] == ["capabilities are not dropped (--cap-drop is [])"]
}

test_deny_partial_drop if {
	r := rule.deny with input as fixtures.create({"cap_drop": ["NET_ADMIN", "SYS_ADMIN"]})
	[v.msg | some v in r] == ["capabilities are not dropped (--cap-drop is [NET_ADMIN, SYS_ADMIN])"]
}

test_deny_lower_case_not_normalized if {
	# Normalizing is the plugin's job; a view that was not normalized fails closed.
	count(rule.deny) == 1 with input as fixtures.create({"cap_drop": ["all"]})
}
