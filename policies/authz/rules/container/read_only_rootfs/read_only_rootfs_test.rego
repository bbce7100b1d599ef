package authz.rules.container.read_only_rootfs_test

import data.authz.lib.fixtures
import data.authz.rules.container.read_only_rootfs as rule

test_allow_read_only if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_deny_writable if {
	r := rule.deny with input as fixtures.create({"read_only": false})
	{v.id | some v in r} == {"read_only_rootfs"}
}

test_allow_other_endpoints if {
	count(rule.deny) == 0 with input as {"route": {"endpoint": "container.list"}}
}
