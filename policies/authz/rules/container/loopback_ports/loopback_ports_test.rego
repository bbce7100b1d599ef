package authz.rules.container.loopback_ports_test

import data.authz.lib.fixtures
import data.authz.rules.container.loopback_ports as rule

_port(ip, loopback) := fixtures.create({"ports": [{
	"container_port": "80/tcp", "host_ip": ip,
	"host_port": "8080", "loopback": loopback,
}]})

test_allow_no_ports if {
	r := rule.deny with input as fixtures.create_compliant
	r == set()
}

test_allow_loopback if {
	count(rule.deny) == 0 with input as _port("127.0.0.1", true)
	count(rule.deny) == 0 with input as _port("::1", true)
}

test_deny_all_interfaces if {
	r := rule.deny with input as _port("", false)
	[v.msg | some v in r] == ["port 80/tcp is published on all interfaces"]
	r4 := rule.deny with input as _port("0.0.0.0", false)
	[v.msg | some v in r4] == ["port 80/tcp is published on all interfaces (0.0.0.0)"]
	r6 := rule.deny with input as _port("::", false)
	[v.msg | some v in r6] == ["port 80/tcp is published on all interfaces (::)"]
}

test_deny_public_ip if {
	r := rule.deny with input as _port("10.0.0.5", false)
	[v.msg | some v in r] == ["port 80/tcp is published on 10.0.0.5"]
	[v.fix | some v in r] == ["publish on loopback only, e.g. -p 127.0.0.1:8080:80 (and no -P)"]
}

test_allow_public_ip_listed_in_params if {
	p := {"allowed_publish_ips": ["10.0.0.5"]}
	count(rule.deny) == 0 with input as _port("10.0.0.5", false) with data.authz_config.params as p
	count(rule.deny) == 1 with input as _port("10.0.0.6", false) with data.authz_config.params as p
}

test_deny_one_violation_per_port if {
	inp := fixtures.create({"ports": [
		{"container_port": "80/tcp", "host_ip": "", "host_port": "8080", "loopback": false},
		{"container_port": "443/tcp", "host_ip": "", "host_port": "8443", "loopback": false},
		{"container_port": "53/udp", "host_ip": "127.0.0.1", "host_port": "53", "loopback": true},
	]})
	count(rule.deny) == 2 with input as inp
}

test_deny_publish_all if {
	r := rule.deny with input as fixtures.create({"publish_all": true})
	[v.msg | some v in r] == ["all exposed ports are published on all interfaces (-P)"]
}
