# METADATA
# title: All capabilities must be dropped
# description: Start from no capabilities and add back only what is needed.
# custom:
#   levels: [restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "Capabilities"
#   cis: "5.3"
#   severity: high
#   fix_compose: 'set cap_drop: [ALL] on the service'
#   fix: add --cap-drop=ALL
package authz.rules.container.drop_all_caps

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	not "ALL" in input.container.cap_drop
	msg := sprintf("capabilities are not dropped (--cap-drop is [%s])", [concat(", ", input.container.cap_drop)])
	violation := result.violation(rego.metadata.chain(), msg)
}
