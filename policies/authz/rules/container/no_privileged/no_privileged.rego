# METADATA
# title: Privileged containers are not allowed
# description: A privileged container has every capability and every device, so it is root on the host.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "Privileged Containers"
#   cis: "5.4"
#   severity: critical
#   fix_compose: 'remove privileged: true'
#   fix: remove --privileged
package authz.rules.container.no_privileged

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	input.container.privileged == true
	violation := result.violation(rego.metadata.chain(), "container is privileged")
}
