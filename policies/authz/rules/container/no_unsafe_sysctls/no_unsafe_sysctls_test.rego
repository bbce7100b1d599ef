package authz.rules.container.no_unsafe_sysctls_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_unsafe_sysctls as rule

test_allow_none if {
	r := rule.deny with input as fixtures.create_compliant
	r == set()
}

test_allow_safe if {
	count(rule.deny) == 0 with input as fixtures.create({"sysctls": {"net.ipv4.ping_group_range": "0 2147483647"}})
}

test_deny_unsafe if {
	r := rule.deny with input as fixtures.create({"sysctls": {"net.ipv4.ip_forward": "1"}})
	[v.msg | some v in r] == ["sysctl net.ipv4.ip_forward is not in the safe set"]
}

test_deny_one_violation_per_sysctl if {
	inp := fixtures.create({"sysctls": {
		"kernel.shm_rmid_forced": "1",
		"kernel.msgmax": "65536",
		"net.core.somaxconn": "1024",
	}})
	count(rule.deny) == 2 with input as inp
}

test_allow_safe_set_from_params if {
	inp := fixtures.create({"sysctls": {"net.core.somaxconn": "1024"}})
	count(rule.deny) == 0 with input as inp with data.authz_config.params as {"safe_sysctls": ["net.core.somaxconn"]}
	count(rule.deny) == 1 with input as inp
}

test_deny_endpoint_sysctl_on_connect if {
	inp := {
		"route": {"endpoint": "network.connect", "id": "app", "write": true},
		"network": {"ref": "app", "name": "app", "driver": "bridge", "options": {}, "endpoint_sysctls": {"net.ipv4.conf.IFNAME.forwarding": "1"}},
	}
	[v.msg | some v in rule.deny with input as inp] == ["network connect sets sysctl net.ipv4.conf.IFNAME.forwarding, which is not in the safe set"]
}

test_allow_connect_without_sysctls if {
	count(rule.deny) == 0 with input as {"route": {"endpoint": "network.connect", "id": "app", "write": true}, "network": {"ref": "app", "name": "app", "driver": "bridge", "options": {}}}
}
