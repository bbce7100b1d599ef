# METADATA
# description: |
#   Host path checks shared by every rule that looks at what a container can
#   reach on the host (binds, volumes, joined containers). Paths arrive
#   cleaned and symlink-resolved by the plugin.
package authz.lib.paths

import data.authz.lib.params

# under(p, dir): p is dir or inside it.
under(p, dir) if p == dir

under(p, dir) if startswith(p, concat("", [trim_suffix(dir, "/"), "/"]))

# allowed(p): p is under an entry of params.allowed_host_paths. Only absolute
# entries count: "" or "srv" would otherwise become a prefix of everything.
allowed(p) if {
	some dir in params.allowed_host_paths
	startswith(dir, "/")
	under(p, dir)
}

# exposes_socket(p): binding p gives the Docker socket (p is the socket or a
# directory above it), which is root on the host whatever else is allowed.
exposes_socket(p) if {
	some sock in params.docker_socket_paths
	under(sock, p)
}

# problem(host_path, resolved) says what is wrong with reaching a host path,
# or is undefined when it is fine.
problem(host_path, resolved) := sprintf("host path %s cannot be resolved", [host_path]) if resolved == ""

problem(host_path, resolved) := sprintf("host path %s exposes the Docker socket", [shown(host_path, resolved)]) if {
	resolved != ""
	exposes_socket(resolved)
}

problem(host_path, resolved) := msg if {
	resolved != ""
	not exposes_socket(resolved)
	not allowed(resolved)
	msg := sprintf("host path %s is not under an allowed host path [%s]", [
		shown(host_path, resolved),
		concat(", ", params.allowed_host_paths),
	])
}

shown(host_path, resolved) := host_path if host_path == resolved

shown(host_path, resolved) := sprintf("%s (resolves to %s)", [host_path, resolved]) if host_path != resolved

# reached(m) is the list of host paths mount (or volume) m reaches, each
# {host_path, resolved}: m.host_paths (an overlay volume reaches several),
# or its single host_path for inputs that carry only that.
reached(m) := m.host_paths if {
	is_array(m.host_paths)
	count(m.host_paths) > 0
}

reached(m) := [{"host_path": m.host_path, "resolved": object.get(m, "resolved", "")}] if {
	count(object.get(m, "host_paths", [])) == 0
	object.get(m, "host_path", "") != ""
}
