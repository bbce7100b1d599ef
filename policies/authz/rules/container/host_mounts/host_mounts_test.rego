package authz.rules.container.host_mounts_test

import data.authz.lib.fixtures
import data.authz.rules.container.host_mounts as rule

_mounts(ms) := fixtures.create({"mounts": ms})

test_allow_tmpfs_and_volumes if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	vol := object.union(fixtures.bind("/x"), {"type": "volume", "host_path": "", "resolved": ""})
	count(rule.deny) == 0 with input as _mounts([vol])
}

test_deny_any_bind_by_default if {
	count(rule.deny) == 1 with input as _mounts([fixtures.bind("/srv")])
}

test_allowed_host_path_boundary if {
	p := {"allowed_host_paths": ["/srv"]}
	count(rule.deny) == 0 with input as _mounts([fixtures.bind("/srv")]) with data.authz_config.params as p
	count(rule.deny) == 0 with input as _mounts([fixtures.bind("/srv/data")]) with data.authz_config.params as p
	count(rule.deny) == 1 with input as _mounts([fixtures.bind("/srvx")]) with data.authz_config.params as p
}

test_deny_resolved_outside_allowed if {
	# /srv/link -> /etc: the resolved path decides.
	m := object.union(fixtures.bind("/srv/link"), {"resolved": "/etc"})
	count(rule.deny) == 1 with input as _mounts([m]) with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
}

test_deny_socket_even_when_allowed if {
	p := {"allowed_host_paths": ["/"]}
	count(rule.deny) == 0 with input as _mounts([fixtures.bind("/srv")]) with data.authz_config.params as p
	every path in ["/var/run/docker.sock", "/run/docker.sock", "/var/run", "/run", "/"] {
		count(rule.deny) == 1 with input as _mounts([fixtures.bind(path)]) with data.authz_config.params as p
	}
}

test_deny_unresolvable if {
	m := object.union(fixtures.bind("/srv/dangling"), {"resolved": ""})
	count(rule.deny) == 1 with input as _mounts([m]) with data.authz_config.params as {"allowed_host_paths": ["/"]}
}

test_deny_volume_bound_to_host if {
	vol := object.union(fixtures.bind("/etc"), {"type": "volume", "origin": "Mounts"})
	count(rule.deny) == 1 with input as _mounts([vol])
}

test_deny_shared_propagation if {
	m := object.union(fixtures.bind("/srv"), {"propagation": "rshared"})
	r := rule.deny with input as _mounts([m]) with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
	[v.msg | some v in r] == ["mount /mnt uses rshared propagation"]
}

test_deny_volumes_from_unverified if {
	count(rule.deny) == 1 with input as fixtures.create({"volumes_from": ["db"]})
}

test_deny_volumes_from_container_with_host_binds if {
	src := object.union(fixtures.container_compliant, {"mounts": [fixtures.bind("/etc")]})
	inp := fixtures.create({"volumes_from": ["db:ro"], "peers": [{"via": "volumes_from", "target": "db", "container": src}]})
	r := rule.deny with input as inp
	[v.msg | some v in r] == ["--volumes-from db shares host paths: it mounts /etc is not under an allowed host path []"]
}

test_allow_volumes_from_compliant_container if {
	inp := fixtures.create({"volumes_from": ["db"], "peers": [{"via": "volumes_from", "target": "db", "container": fixtures.container_compliant}]})
	count(rule.deny) == 0 with input as inp
}
