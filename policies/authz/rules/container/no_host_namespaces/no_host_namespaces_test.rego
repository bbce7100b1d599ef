package authz.rules.container.no_host_namespaces_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_host_namespaces as rule

_ns(kind, mode) := fixtures.create({"namespaces": {kind: mode}})

test_allow_private if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as _ns("network", "bridge")
	count(rule.deny) == 0 with input as _ns("ipc", "private")
}

test_deny_each_host_namespace if {
	every kind in ["network", "pid", "ipc", "uts", "userns", "cgroupns"] {
		count(rule.deny) == 1 with input as _ns(kind, "host")
	}
}

test_deny_host_any_case if {
	count(rule.deny) == 1 with input as _ns("pid", "HOST")
}

test_deny_joined_container if {
	r := rule.deny with input as _ns("network", "container:web")
	[v.msg | some v in r] == [`network namespace joins container "web", which cannot be verified`]
}

test_deny_joining_privileged_container if {
	target := object.union(fixtures.container_compliant, {"privileged": true})
	inp := fixtures.create({
		"namespaces": {"network": "container:web"},
		"peers": [{"via": "network", "target": "web", "container": target}],
	})
	r := rule.deny with input as inp
	[v.msg | some v in r] == [`network namespace joins container "web", which is not safe to join: it is privileged`]
}

test_allow_joining_compliant_container if {
	inp := fixtures.create({
		"namespaces": {"pid": "container:web"},
		"peers": [{"via": "pid", "target": "web", "container": fixtures.container_compliant}],
	})
	count(rule.deny) == 0 with input as inp
}

test_deny_one_violation_per_namespace if {
	inp := fixtures.create({"namespaces": {"network": "host", "pid": "host", "userns": "host"}})
	r := rule.deny with input as inp
	{v.msg | some v in r} == {
		"network namespace is the host's (--network host)",
		"pid namespace is the host's (--pid host)",
		"userns namespace is the host's (--userns host)",
	}
}

test_deny_fix_is_the_flag if {
	r := rule.deny with input as _ns("ipc", "host")
	[v.fix | some v in r] == [concat(" ", [
		"remove --network/--pid/--ipc/--uts/--userns/--cgroupns host",
		"(and container:<name> of a container that is not hardened)",
	])]
}

test_allow_private_cgroupns_and_userns_default if {
	count(rule.deny) == 0 with input as fixtures.create({"namespaces": {"cgroupns": "private", "userns": ""}})
}

# issue 11 item 12: a namespace taken from a container that took it from a
# privileged one is that one's.
test_deny_joined_through_another if {
	priv := object.union(fixtures.container_compliant, {"privileged": true})
	mid := object.union(fixtures.container_compliant, {"namespaces": {"network": "container:priv"}})
	inp := fixtures.create({"namespaces": {"network": "container:mid"}, "peers": [
		{"via": "network", "target": "mid", "through": [], "container": mid},
		{"via": "network", "target": "priv", "through": ["mid"], "container": priv},
	]})
	r := rule.deny with input as inp
	[v.msg | some v in r] == [`network namespace joins container "priv" (reached through mid), which is not safe to join: it is privileged`]
}

test_deny_host_network_by_id if {
	r := rule.deny with input as fixtures.create({"networks": [{"ref": "3f2a", "id": "3f2a9", "name": "host", "driver": "host", "options": {}}]})
	[v.msg | some v in r] == [`network "3f2a" is the host's network namespace (driver host)`]
	count(rule.deny) == 0 with input as fixtures.create({"networks": [{"ref": "app", "name": "app", "driver": "bridge", "options": {}}]})
}
