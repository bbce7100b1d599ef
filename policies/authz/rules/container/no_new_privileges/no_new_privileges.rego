# METADATA
# title: no-new-privileges must be set
# description: Without it, setuid binaries in the image can raise privileges.
# custom:
#   levels: [restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "Privilege Escalation"
#   cis: "5.25"
#   severity: high
#   fix_compose: 'set security_opt: ["no-new-privileges:true"] on the service'
#   fix: add --security-opt no-new-privileges
#   fix_service: >-
#     set TaskTemplate.ContainerSpec.Privileges.NoNewPrivileges, sent with
#     API 1.44 or later (older API versions, and Engine 20.10, drop it; the
#     docker service create of older CLIs cannot set it)
package authz.rules.container.no_new_privileges

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	input.container.security.no_new_privileges != true
	violation := result.violation(rego.metadata.chain(), "privilege escalation is allowed (no-new-privileges is not set)")
}
