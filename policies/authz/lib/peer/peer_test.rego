package authz.lib.peer_test

import data.authz.lib.fixtures
import data.authz.lib.peer

test_compliant_peer_has_no_problems if {
	peer.problems(fixtures.container_compliant) == set()
}

test_privileged_and_host_namespace if {
	c := object.union(fixtures.container_compliant, {"privileged": true, "namespaces": {"pid": "host"}})
	peer.problems(c) == {"it is privileged", "it shares the host's pid namespace"}
}

test_host_mount if {
	c := object.union(fixtures.container_compliant, {"mounts": [fixtures.bind("/etc")]})
	peer.mount_problems(c) == {"it mounts /etc is not under an allowed host path []"}
}

test_unconfined_peer if {
	every sec in [
		{"seccomp": "unconfined"}, {"apparmor": "Unconfined"}, {"labels": ["disable"]},
	] {
		c := object.union(fixtures.container_compliant, {"security": sec})
		peer.problems(c) == {"it runs with an unconfined security profile"}
	}
	c := object.union(fixtures.container_compliant, {"masked_paths_set": true})
	peer.problems(c) == {"it runs with an unconfined security profile"}
}
