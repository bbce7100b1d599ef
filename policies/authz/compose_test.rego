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
