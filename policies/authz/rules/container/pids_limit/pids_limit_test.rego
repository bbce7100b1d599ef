package authz.rules.container.pids_limit_test

import data.authz.lib.fixtures
import data.authz.rules.container.pids_limit as rule

_pids(n) := fixtures.create({"resources": {"pids_limit": n}})

test_allow_limit if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as _pids(4096)
}

test_deny_null_zero_negative if {
	count(rule.deny) == 1 with input as _pids(null)
	count(rule.deny) == 1 with input as _pids(0)
	count(rule.deny) == 1 with input as _pids(-1)
}

test_deny_over_max if {
	count(rule.deny) == 1 with input as _pids(4097)
}
