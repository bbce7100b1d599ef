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

test_deny_read_only_not_true if {
	# Only true counts: a missing or null flag is a writable root filesystem.
	count(rule.deny) == 1 with input as fixtures.create({"read_only": null})
}

test_deny_fix_is_the_flag if {
	r := rule.deny with input as fixtures.create({"read_only": false})
	[v.fix | some v in r] == ["add --read-only (with --tmpfs /tmp for scratch space)"]
}
