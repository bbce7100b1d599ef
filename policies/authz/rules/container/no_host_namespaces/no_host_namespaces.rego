# METADATA
# title: Host namespaces may not be shared
# description: Sharing the host's network, pid, ipc, uts, user or cgroup namespace removes isolation (CIS 5.10, 5.16, 5.17, 5.21, 5.31).
# custom:
#   severity: critical
#   fix: remove --network/--pid/--ipc/--uts/--userns/--cgroupns host (and container:<name>)
package authz.rules.container.no_host_namespaces

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some kind, mode in input.container.namespaces
	lower(mode) == "host"
	violation := result.violation(rego.metadata.chain(), sprintf("%s namespace is the host's (--%s host)", [kind, _flag(kind)]))
}

# Joining another container's namespace is only as safe as that container;
# it cannot be verified yet, so it is denied.
deny contains violation if {
	request.is_container_create
	some kind, mode in input.container.namespaces
	startswith(lower(mode), "container:")
	violation := result.violation(rego.metadata.chain(), sprintf(
		"%s namespace joins container %q, which cannot be verified",
		[kind, substring(mode, 10, -1)],
	))
}

_flag("network") := "network"

_flag("pid") := "pid"

_flag("ipc") := "ipc"

_flag("uts") := "uts"

_flag("userns") := "userns"

_flag("cgroupns") := "cgroupns"
