# METADATA
# title: Host paths may not be mounted
# description: |
#   A bind mount (or a local volume bound to a host directory) gives the
#   container the host's files. Paths are compared after the plugin cleaned
#   them and resolved symlinks on the host (CIS 5.6, 5.20, 5.32).
# custom:
#   severity: critical
#   fix: remove the -v/--mount of a host path (or ask an admin to add it to params.allowed_host_paths)
package authz.rules.container.host_mounts

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

deny contains violation if {
	request.is_container_create
	some m in input.container.mounts
	m.propagation in {"shared", "rshared"}
	violation := result.violation(rego.metadata.chain(), sprintf("mount %s uses %s propagation", [m.target, m.propagation]))
}

# The source container's mounts cannot be verified yet.
deny contains violation if {
	request.is_container_create
	some src in input.container.volumes_from
	violation := result.violation(rego.metadata.chain(), sprintf("--volumes-from %s cannot be verified", [src]))
}

_host_mounts contains m if {
	some m in input.container.mounts
	m.host_path != ""
}

_problems contains sprintf("host path %s cannot be resolved", [m.host_path]) if {
	some m in _host_mounts
	m.resolved == ""
}

# The Docker socket is root on the host, whatever allowed_host_paths says;
# so is any directory above it.
_problems contains sprintf("host path %s exposes the Docker socket", [_shown(m)]) if {
	some m in _host_mounts
	_exposes_socket(m)
}

_problems contains sprintf("host path %s is not under an allowed host path %v", [_shown(m), params.allowed_host_paths]) if {
	some m in _host_mounts
	m.resolved != ""
	not _exposes_socket(m)
	not _allowed(m.resolved)
}

_exposes_socket(m) if {
	m.resolved != ""
	some sock in params.docker_socket_paths
	_under(sock, m.resolved)
}

_allowed(p) if {
	some allowed in params.allowed_host_paths
	_under(p, allowed)
}

# _under(p, dir): p is dir or inside it.
_under(p, dir) if p == dir

_under(p, dir) if startswith(p, concat("", [trim_suffix(dir, "/"), "/"]))

_shown(m) := m.host_path if m.host_path == m.resolved

_shown(m) := sprintf("%s (resolves to %s)", [m.host_path, m.resolved]) if m.host_path != m.resolved
