package authz.rules.container.no_new_privileges_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_new_privileges as rule

_security(nnp) := fixtures.create({"security": {"no_new_privileges": nnp}})

test_allow_set if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_deny_unset if {
	count(rule.deny) == 1 with input as _security(false)
}
