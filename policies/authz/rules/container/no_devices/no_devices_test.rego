package authz.rules.container.no_devices_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_devices as rule

test_allow_none if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_deny_device if {
	count(rule.deny) == 1 with input as fixtures.create({"devices": [{"path_on_host": "/dev/kvm"}]})
}

test_deny_cgroup_rule_and_gpus if {
	count(rule.deny) == 1 with input as fixtures.create({"device_cgroup_rules": ["c 1:3 rwm"]})
	count(rule.deny) == 1 with input as fixtures.create({"device_requests": [{"driver": "nvidia"}]})
}

test_deny_messages if {
	r := rule.deny with input as fixtures.create({
		"devices": [{"path_on_host": "/dev/kvm", "path_in_container": "/dev/kvm", "cgroup_permissions": "rwm"}],
		"device_cgroup_rules": ["c 1:3 rwm"],
	})
	{v.msg | some v in r} == {"device /dev/kvm is added", `device cgroup rule "c 1:3 rwm" is added`}
}

test_deny_device_without_host_path if {
	r := rule.deny with input as fixtures.create({"devices": [{"path_in_container": "/dev/x"}]})
	[v.msg | some v in r] == [`device {"path_in_container":"/dev/x"} is added`]
}
