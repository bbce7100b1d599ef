package authz.rules.container.loopback_ports_test

import data.authz.lib.fixtures
import data.authz.rules.container.loopback_ports as rule

_port(ip, loopback) := fixtures.create({"ports": [{
	"container_port": "80/tcp", "host_ip": ip,
	"host_port": "8080", "loopback": loopback,
}]})

test_allow_loopback if {
	count(rule.deny) == 0 with input as _port("127.0.0.1", true)
	count(rule.deny) == 0 with input as _port("::1", true)
}

test_deny_all_interfaces if {
	r := rule.deny with input as _port("", false)
	[v.msg | some v in r] == ["port 80/tcp is published on all interfaces"]
	count(rule.deny) == 1 with input as _port("0.0.0.0", false)
}

test_deny_public_ip_unless_allowed if {
	count(rule.deny) == 1 with input as _port("10.0.0.5", false)
	count(rule.deny) == 0 with input as _port("10.0.0.5", false) with data.authz_config.params as {"allowed_publish_ips": ["10.0.0.5"]}
}

test_deny_publish_all if {
	count(rule.deny) == 1 with input as fixtures.create({"publish_all": true})
}
