package authz.rules.container.no_unsafe_sysctls_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_unsafe_sysctls as rule

test_allow_safe if {
	count(rule.deny) == 0 with input as fixtures.create({"sysctls": {"net.ipv4.ping_group_range": "0 2147483647"}})
}

test_deny_unsafe if {
	count(rule.deny) == 1 with input as fixtures.create({"sysctls": {"net.ipv4.ip_forward": "1"}})
}
