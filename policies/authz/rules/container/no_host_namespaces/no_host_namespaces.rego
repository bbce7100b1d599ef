# METADATA
# title: Host namespaces may not be shared
# description: |
#   Sharing the host's network, pid, ipc, uts, user or cgroup namespace
#   removes isolation; joining another container's namespace is as safe as
#   that container.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "Host Namespaces"
#   cis: "5.9, 5.15, 5.16, 5.20, 5.30"
#   severity: critical
#   fix_compose: 'remove network_mode: host, pid: host, ipc: host, uts: host, userns_mode: host and cgroup: host (and network_mode/pid/ipc service:<name> or container:<name> of a container that is not hardened)'
#   fix: >-
#     remove --network/--pid/--ipc/--uts/--userns/--cgroupns host
#     (and container:<name> of a container that is not hardened)
package authz.rules.container.no_host_namespaces

import data.authz.lib.peer
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some kind, mode in input.container.namespaces
	lower(mode) == "host"
	violation := result.violation(rego.metadata.chain(), sprintf("%s namespace is the host's (--%s host)", [kind, kind]))
}

# B8: joining the namespace of a container that is privileged, on host
# namespaces, or otherwise unsafe gives its powers to this one.
deny contains violation if {
	request.is_container_create
	some p in object.get(input.container, "peers", [])
	p.via != "volumes_from"
	ps := peer.problems(p.container)
	count(ps) > 0
	violation := result.violation(rego.metadata.chain(), sprintf(
		"%s namespace joins container %s, which is not safe to join: %s",
		[p.via, peer.shown(p), peer.describe(ps)],
	))
}

# A joined container the plugin could not look up is denied.
deny contains violation if {
	request.is_container_create
	some kind, mode in input.container.namespaces
	startswith(lower(mode), "container:")
	target := substring(mode, 10, -1)
	not _looked_up(kind, target)
	violation := result.violation(rego.metadata.chain(), sprintf(
		"%s namespace joins container %q, which cannot be verified",
		[kind, target],
	))
}

_looked_up(kind, target) if {
	some p in object.get(input.container, "peers", [])
	p.via == kind
	p.target == target
}

# A network named by id or name that resolves to the host network (driver
# host): NetworkMode "<the host network's id>", a service's network target.
deny contains violation if {
	request.is_container_create
	some n in object.get(input.container, "networks", [])
	n.driver == "host"
	violation := result.violation(rego.metadata.chain(), sprintf("network %q is the host's network namespace (driver host)", [n.ref]))
}
