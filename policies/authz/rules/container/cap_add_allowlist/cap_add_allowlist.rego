# METADATA
# title: Only allowed capabilities may be added
# description: |
#   Capabilities beyond the allowed set (default NET_BIND_SERVICE, NET_RAW)
#   widen the kernel attack surface.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "Capabilities"
#   cis: "5.3"
#   severity: high
#   fix_compose: 'remove the capability from cap_add: (allowed ones are in params.allowed_capabilities)'
#   fix: remove --cap-add=<capability> (allowed ones are in params.allowed_capabilities)
package authz.rules.container.cap_add_allowlist

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

# --cap-add=ALL grants every capability, whatever the allowed set says.
deny contains violation if {
	request.is_container_create
	"ALL" in input.container.cap_add
	violation := result.violation(rego.metadata.chain(), "capability ALL adds every capability")
}

deny contains violation if {
	request.is_container_create
	some cap in input.container.cap_add
	cap != "ALL"
	not cap in params.allowed_capabilities
	violation := result.violation(rego.metadata.chain(), sprintf(
		"capability %q is not in the allowed set [%s]",
		[cap, concat(", ", sort(params.allowed_capabilities))],
	))
}
