package authz.rules.container.cap_add_allowlist_test

import data.authz.lib.fixtures
import data.authz.rules.container.cap_add_allowlist as rule

test_allow_allowed_caps if {
	count(rule.deny) == 0 with input as fixtures.create({"cap_add": ["NET_BIND_SERVICE", "NET_RAW"]})
}

test_deny_sys_admin if {
	r := rule.deny with input as fixtures.create({"cap_add": ["NET_RAW", "SYS_ADMIN"]})
	[v.msg | some v in r] == [`capability "SYS_ADMIN" is not in the allowed set ["NET_BIND_SERVICE", "NET_RAW"]`]
}

test_deny_all if {
	count(rule.deny) == 1 with input as fixtures.create({"cap_add": ["ALL"]})
}

test_allowlist_from_params if {
	inp := fixtures.create({"cap_add": ["CHOWN"]})
	count(rule.deny) == 0 with input as inp with data.authz_config.params as {"allowed_capabilities": ["chown"]}
	count(rule.deny) == 1 with input as inp
}
