# METADATA
# title: Only allowed capabilities may be added
# description: Capabilities beyond the allowed set (default NET_BIND_SERVICE, NET_RAW) widen the kernel attack surface (CIS 5.4).
# custom:
#   severity: high
#   fix: remove --cap-add=<capability> (allowed ones are in params.allowed_capabilities)
package authz.rules.container.cap_add_allowlist

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some cap in input.container.cap_add
	not cap in params.allowed_capabilities
	violation := result.violation(rego.metadata.chain(), sprintf(
		"capability %q is not in the allowed set %v",
		[cap, sort([c | some c in params.allowed_capabilities])],
	))
}
