package authz.rules.container.cap_add_allowlist_test

import data.authz.lib.fixtures
import data.authz.rules.container.cap_add_allowlist as rule

_caps(caps) := fixtures.create({"cap_add": caps})

test_allow_compliant_create if {
	r := rule.deny with input as fixtures.create_compliant
	r == set()
}

test_allow_allowed_caps if {
	count(rule.deny) == 0 with input as _caps(["NET_BIND_SERVICE", "NET_RAW"])
	count(rule.deny) == 0 with input as _caps([])
}

test_deny_sys_admin if {
	r := rule.deny with input as _caps(["NET_RAW", "SYS_ADMIN"])
	[v.msg | some v in r] == [`capability "SYS_ADMIN" is not in the allowed set [NET_BIND_SERVICE, NET_RAW]`]
}

test_deny_one_violation_per_capability if {
	r := rule.deny with input as _caps(["NET_ADMIN", "SYS_ADMIN", "NET_RAW"])
	{v.msg | some v in r} == {
		`capability "NET_ADMIN" is not in the allowed set [NET_BIND_SERVICE, NET_RAW]`,
		`capability "SYS_ADMIN" is not in the allowed set [NET_BIND_SERVICE, NET_RAW]`,
	}
}

test_deny_all if {
	r := rule.deny with input as _caps(["ALL"])
	[v.msg | some v in r] == ["capability ALL adds every capability"]
}

test_deny_all_even_when_allowed if {
	# The Go side upper-cases "all"; an operator listing ALL does not allow it.
	r := rule.deny with input as _caps(["ALL"]) with data.authz_config.params as {"allowed_capabilities": ["ALL"]}
	count(r) == 1
}

test_allow_capability_listed_in_params if {
	p := {"allowed_capabilities": ["chown"]}
	count(rule.deny) == 0 with input as _caps(["CHOWN"]) with data.authz_config.params as p
}

test_deny_default_capability_dropped_from_params if {
	r := rule.deny with input as _caps(["NET_RAW"]) with data.authz_config.params as {"allowed_capabilities": ["CHOWN"]}
	[v.msg | some v in r] == [`capability "NET_RAW" is not in the allowed set [CHOWN]`]
	count(rule.deny) == 1 with input as _caps(["CHOWN"])
}
