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

test_allow_host_path_boundary if {
	p := {"allowed_host_paths": ["/srv"]}
	count(rule.deny) == 0 with input as _mounts([fixtures.bind("/srv")]) with data.authz_config.params as p
	count(rule.deny) == 0 with input as _mounts([fixtures.bind("/srv/data")]) with data.authz_config.params as p
	r := rule.deny with input as _mounts([fixtures.bind("/srvx")]) with data.authz_config.params as p
	[v.msg | some v in r] == ["host path /srvx is not under an allowed host path [/srv]"]
}

test_allow_entry_with_trailing_slash if {
	p := {"allowed_host_paths": ["/srv/"]}
	count(rule.deny) == 0 with input as _mounts([fixtures.bind("/srv/data")]) with data.authz_config.params as p
	count(rule.deny) == 1 with input as _mounts([fixtures.bind("/srvx")]) with data.authz_config.params as p
}

test_deny_one_violation_per_mount if {
	r := rule.deny with input as _mounts([fixtures.bind("/etc"), fixtures.bind("/home")])
	{v.msg | some v in r} == {
		"host path /etc is not under an allowed host path []",
		"host path /home is not under an allowed host path []",
	}
}

test_deny_resolved_outside_allowed if {
	# /srv/link -> /etc: the resolved path decides.
	m := object.union(fixtures.bind("/srv/link"), {"resolved": "/etc"})
	count(rule.deny) == 1 with input as _mounts([m]) with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
}

test_deny_socket_message if {
	r := rule.deny with input as _mounts([fixtures.bind("/var/run/docker.sock")])
	[v.msg | some v in r] == ["host path /var/run/docker.sock exposes the Docker socket"]
	r2 := rule.deny with input as _mounts([object.union(fixtures.bind("/var/run"), {"resolved": "/run"})])
	[v.msg | some v in r2] == ["host path /var/run (resolves to /run) exposes the Docker socket"]
}

test_deny_custom_socket_path if {
	p := {"allowed_host_paths": ["/srv"], "docker_socket_paths": ["/srv/docker/docker.sock"]}
	count(rule.deny) == 1 with input as _mounts([fixtures.bind("/srv/docker")]) with data.authz_config.params as p
	count(rule.deny) == 0 with input as _mounts([fixtures.bind("/srv/data")]) with data.authz_config.params as p
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
	shared := object.union(fixtures.bind("/srv"), {"propagation": "shared"})
	count(rule.deny) == 1 with input as _mounts([shared]) with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
}

test_allow_private_and_slave_propagation if {
	p := {"allowed_host_paths": ["/srv"]}
	every prop in ["rprivate", "private", "slave", "rslave"] {
		m := object.union(fixtures.bind("/srv"), {"propagation": prop})
		count(rule.deny) == 0 with input as _mounts([m]) with data.authz_config.params as p
	}
}

test_deny_volumes_from_unverified if {
	r := rule.deny with input as fixtures.create({"volumes_from": ["db:ro"]})
	[v.msg | some v in r] == ["--volumes-from db:ro cannot be verified"]
}

test_deny_volumes_from_container_with_host_binds if {
	src := object.union(fixtures.container_compliant, {"mounts": [fixtures.bind("/etc")]})
	inp := fixtures.create({
		"volumes_from": ["db:ro"],
		"peers": [{"via": "volumes_from", "target": "db", "container": src}],
	})
	r := rule.deny with input as inp
	[v.msg | some v in r] == ["--volumes-from db, which is not safe to share: it mounts /etc is not under an allowed host path []"]
}

test_deny_volumes_from_privileged_container if {
	src := object.union(fixtures.container_compliant, {"privileged": true})
	inp := fixtures.create({
		"volumes_from": ["db"],
		"peers": [{"via": "volumes_from", "target": "db", "container": src}],
	})
	r := rule.deny with input as inp
	[v.msg | some v in r] == ["--volumes-from db, which is not safe to share: it is privileged"]
}

test_allow_volumes_from_compliant_container if {
	inp := fixtures.create({
		"volumes_from": ["db"],
		"peers": [{"via": "volumes_from", "target": "db", "container": fixtures.container_compliant}],
	})
	count(rule.deny) == 0 with input as inp
}

# issue 11 item 10: an overlay volume reaches several host paths; each counts.
test_deny_any_of_several_host_paths if {
	m := {
		"origin": "Binds", "type": "volume", "source": "ovl", "target": "/mnt", "read_only": false,
		"propagation": "", "host_path": "/srv/a", "resolved": "/srv/a", "volume_driver": "local", "volume_options": {},
		"host_paths": [{"host_path": "/srv/a", "resolved": "/srv/a"}, {"host_path": "/etc", "resolved": "/etc"}],
	}
	r := rule.deny with input as fixtures.create({"mounts": [m]}) with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
	[v.msg | some v in r] == ["host path /etc is not under an allowed host path [/srv]"]
}

# issue 11 item 12: a peer reached through another is named with its chain.
test_deny_volumes_from_chain if {
	binder := object.union(fixtures.container_compliant, {"mounts": [fixtures.bind("/etc")]})
	hop := object.union(fixtures.container_compliant, {"volumes_from": ["binder"]})
	inp := fixtures.create({"volumes_from": ["hop"], "peers": [
		{"via": "volumes_from", "target": "binder", "through": ["hop"], "container": binder},
		{"via": "volumes_from", "target": "hop", "through": [], "container": hop},
	]})
	r := rule.deny with input as inp
	[v.msg | some v in r] == ["--volumes-from binder (reached through hop), which is not safe to share: it mounts /etc is not under an allowed host path []"]
}
