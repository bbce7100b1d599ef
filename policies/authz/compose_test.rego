package authz_compose_test

# The shipped rules speak Compose to a container Compose created: every fix
# of a plain `docker compose up` of an unhardened service is a Compose key,
# with the configured maximums filled in; the same container without the
# labels keeps the docker run flags.

import data.authz
import data.authz.lib.fixtures

_compose := {"project": "shop", "service": "web"}

# docker compose up of `image: busybox` with ports: ["8080:80"] and a bind
# of /srv/data, nothing hardened.
_plain := {
	"read_only": false,
	"cap_drop": [],
	"user": {"raw": "", "name": "", "uid": null, "group": "", "source": "image", "resolved": false},
	"security": {"no_new_privileges": false, "seccomp": "", "apparmor": "", "labels": [], "invalid": []},
	"resources": {
		"memory": 0, "memory_swap": 0, "nano_cpus": 0, "cpu_quota": 0,
		"cpu_period": 0, "pids_limit": null, "oom_kill_disable": null, "cgroup_parent": "",
	},
	"ports": [{"container_port": "80/tcp", "host_ip": "", "host_port": "8080", "loopback": false}],
	"mounts": [fixtures.bind("/srv/data")],
}

_fixes(container) := {v.id: v.fix |
	d := authz.decision with input as fixtures.create(container)
	some v in d.violations
}

test_deny_compose_container_fixes_are_compose_keys if {
	f := _fixes(object.union(_plain, {"compose": _compose}))
	f == {
		"cpu_limit": "set cpus: 1 on the service (at most 4), or deploy.resources.limits.cpus",
		"drop_all_caps": "set cap_drop: [ALL] on the service",
		"host_mounts": "use a named volume instead of the host path in volumes: (no Docker socket, no volumes_from: of a container that is not hardened; or ask an admin to add the path to params.allowed_host_paths)",
		"loopback_ports": "publish on loopback only, e.g. ports: [\"127.0.0.1:8080:80\"]",
		"memory_limit": "set mem_limit: 512m on the service (at most 4096m), or deploy.resources.limits.memory, and no memswap_limit: -1",
		"no_new_privileges": "set security_opt: [\"no-new-privileges:true\"] on the service",
		"non_root_user": "set user: \"1000:1000\" on the service (a non-zero uid)",
		"pids_limit": "set pids_limit: 256 on the service (at most 4096), or deploy.resources.limits.pids",
		"read_only_rootfs": "set read_only: true on the service (with tmpfs: [/tmp] for scratch space)",
	}
}

test_deny_plain_container_keeps_docker_run_flags if {
	f := _fixes(_plain)
	f.read_only_rootfs == "add --read-only (with --tmpfs /tmp for scratch space)"
	f.cpu_limit == "add --cpus 1 (at most 4)"
	f.loopback_ports == "publish on loopback only, e.g. -p 127.0.0.1:8080:80 (and no -P)"
}

test_deny_compose_fix_names_configured_maximums if {
	inp := fixtures.create(object.union(_plain, {"compose": _compose}))
	d := authz.decision with input as inp with data.authz_config.params.max_memory as 268435456
	some v in d.violations
	v.id == "memory_limit"
	v.fix == "set mem_limit: 512m on the service (at most 256m), or deploy.resources.limits.memory, and no memswap_limit: -1"
}

test_allow_compliant_compose_container if {
	d := authz.decision with input as fixtures.create({"compose": _compose})
	d.allow
}

# A volume and a network Compose creates carry its labels too: their fixes
# are Compose keys; the same creates by docker volume/network create keep
# the flags.
_volume(compose) := object.union(
	{"route": {"endpoint": "volume.create"}, "volume": {
		"name": "shop_data", "driver": "local", "options": {"o": "bind", "device": "/etc"},
		"host_path": "/etc", "resolved": "/etc", "host_paths": [{"host_path": "/etc", "resolved": "/etc"}],
	}},
	compose,
)

test_deny_compose_volume_fix_is_a_compose_key if {
	d := authz.decision with input as _volume({"volume": {"compose": {"project": "shop", "volume": "data"}}})
	[v.fix | some v in d.violations] == ["remove driver_opts device and o: bind from the volume in volumes: (a plain named volume, or driver_opts type: tmpfs), or ask an admin to add the path to params.allowed_host_paths"]
	p := authz.decision with input as _volume({})
	[v.fix | some v in p.violations] == ["create the volume without --opt device=/--opt o=bind (a plain volume, or type=tmpfs) (or ask an admin to add the path to params.allowed_host_paths)"]
}

_network(compose) := object.union(
	{"route": {"endpoint": "network.create"}, "user": {"name": "", "authn_method": "", "groups": []}, "network": {
		"ref": "", "id": "", "name": "shop_lan", "driver": "macvlan", "scope": "local", "internal": false,
		"config_only": false, "config_from": "", "options": {},
	}},
	compose,
)

test_deny_compose_network_fix_is_a_compose_key if {
	d := authz.decision with input as _network({"network": {"compose": {"project": "shop", "network": "lan"}}})
	some v in d.violations
	v.id == "network_behind_host"
	startswith(v.fix, "join only networks: whose driver: is bridge")
	p := authz.decision with input as _network({})
	some w in p.violations
	w.id == "network_behind_host"
	startswith(w.fix, "use a bridge network")
}
