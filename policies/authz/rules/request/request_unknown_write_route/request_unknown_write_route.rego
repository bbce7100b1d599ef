# METADATA
# title: Unknown write routes are denied
# description: |
#   A write request the plugin cannot name is a route it has no rules for:
#   new engine endpoints, or a path crafted to miss the rules. Denying it
#   keeps the policy closed; reads (GET, HEAD) stay allowed. A request guard:
#   no exemption waives it.
# custom:
#   levels: [privileged, baseline, restricted]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix: check the request path; if it is a real Docker API route, ask an admin to update dockward
package authz.rules.request.request_unknown_write_route

import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == ""
	input.route.write
	violation := result.violation(rego.metadata.chain(), sprintf("%s %s is not a Docker API route dockward knows", [
		input.request.method, input.request.path,
	]))
}
