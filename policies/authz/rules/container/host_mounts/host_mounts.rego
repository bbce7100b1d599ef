# METADATA
# title: Host paths may not be mounted
# description: |
#   A bind mount (or a local volume bound to a host directory, or the mounts
#   of a container joined with --volumes-from) gives the container the
#   host's files. Paths are compared after the plugin cleaned them and
#   resolved symlinks on the host.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "HostPath Volumes"
#   cis: "5.5, 5.19, 5.31"
#   severity: critical
#   fix_compose: 'use a named volume instead of the host path in volumes: (no Docker socket, no volumes_from: of a container that is not hardened; or ask an admin to add the path to params.allowed_host_paths)'
#   fix: remove the -v/--mount of a host path (or ask an admin to add it to params.allowed_host_paths)
package authz.rules.container.host_mounts

import data.authz.lib.paths
import data.authz.lib.peer
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some m in input.container.mounts
	some hp in paths.reached(m)
	msg := paths.problem(hp.host_path, hp.resolved)
	violation := result.violation(rego.metadata.chain(), msg)
}

deny contains violation if {
	request.is_container_create
	some m in input.container.mounts
	m.propagation in {"shared", "rshared"}
	msg := sprintf("mount %s uses %s propagation", [m.target, m.propagation])
	violation := result.violation(rego.metadata.chain(), msg)
}

# --volumes-from shares the source container's volumes and binds (B7): the
# source must itself be a container others may share with (lib/peer).
deny contains violation if {
	request.is_container_create
	some p in object.get(input.container, "peers", [])
	p.via == "volumes_from"
	ps := peer.problems(p.container)
	count(ps) > 0
	violation := result.violation(rego.metadata.chain(), sprintf("--volumes-from %s, which is not safe to share: %s", [_shown(p), peer.describe(ps)]))
}

# A --volumes-from the plugin could not look up is denied.
deny contains violation if {
	request.is_container_create
	some src in input.container.volumes_from
	target := split(src, ":")[0]
	not _looked_up(target)
	violation := result.violation(rego.metadata.chain(), sprintf("--volumes-from %s cannot be verified", [src]))
}

_looked_up(target) if {
	some p in object.get(input.container, "peers", [])
	p.via == "volumes_from"
	p.target == target
}

_shown(p) := p.target if count(object.get(p, "through", [])) == 0

_shown(p) := sprintf("%s (reached through %s)", [p.target, concat(" -> ", p.through)]) if count(object.get(p, "through", [])) > 0
