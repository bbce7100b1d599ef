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

test_deny_missing if {
	# A view without the key (never sent by the plugin) fails closed.
	count(rule.deny) == 1 with input as fixtures.create({"security": {"no_new_privileges": null}})
}

test_deny_message_and_fix if {
	r := rule.deny with input as _security(false)
	[[v.msg, v.fix] | some v in r] == [[
		"privilege escalation is allowed (no-new-privileges is not set)",
		"add --security-opt no-new-privileges",
	]]
}
