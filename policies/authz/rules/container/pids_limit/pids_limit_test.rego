package authz.rules.container.pids_limit_test

import data.authz.lib.fixtures
import data.authz.rules.container.pids_limit as rule

_pids(n) := fixtures.create({"resources": {"pids_limit": n}})

test_allow_limit if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as _pids(4096)
}

test_deny_null if {
	r := rule.deny with input as _pids(null)
	[v.msg | some v in r] == ["no pids limit is set"]
}

test_deny_zero_and_negative if {
	r := rule.deny with input as _pids(0)
	[v.msg | some v in r] == ["pids limit is 0, which means unlimited"]
	count(rule.deny) == 1 with input as _pids(-1)
}

test_deny_over_max if {
	r := rule.deny with input as _pids(4097)
	[v.msg | some v in r] == ["pids limit 4097 is above the maximum 4096"]
}

test_allow_max_from_params if {
	count(rule.deny) == 0 with input as _pids(10) with data.authz_config.params as {"max_pids": 10}
	count(rule.deny) == 1 with input as _pids(11) with data.authz_config.params as {"max_pids": 10}
}
