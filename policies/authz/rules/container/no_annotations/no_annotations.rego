# METADATA
# title: Runtime annotations need an allowlist
# description: |
#   HostConfig.Annotations go into the OCI spec, where the runtime reads
#   some as instructions: runc turns org.systemd.property.* into properties
#   of the container's systemd unit (with the systemd cgroup driver, e.g.
#   limits and device access), crun reads run.oci.* (seccomp, cgroup
#   delegation, handlers). Only keys in params.allowed_annotations pass.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix_compose: 'remove the entry from annotations: (or ask an admin to add its key to params.allowed_annotations)'
#   fix: remove the --annotation (or ask an admin to add its key to params.allowed_annotations)
package authz.rules.container.no_annotations

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some key, _ in object.get(input.container, "annotations", {})
	not _allowed(key)
	violation := result.violation(rego.metadata.chain(), sprintf("annotation %q is not in the allowed annotations", [key]))
}

# An entry ending in "*" is a prefix.
_allowed(key) if key in params.allowed_annotations

_allowed(key) if {
	some a in params.allowed_annotations
	endswith(a, "*")
	startswith(key, trim_suffix(a, "*"))
}
