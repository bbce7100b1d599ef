package authz.rules.container.no_cgroup_parent_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_cgroup_parent as rule

test_allow_default if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_deny_parent if {
	count(rule.deny) == 1 with input as fixtures.create({"resources": {"cgroup_parent": "/system.slice"}})
}

test_deny_message if {
	r := rule.deny with input as fixtures.create({"resources": {"cgroup_parent": "/system.slice"}})
	[v.msg | some v in r] == [`cgroup parent is set to "/system.slice"`]
}
