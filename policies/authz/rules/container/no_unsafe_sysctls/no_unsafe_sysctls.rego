# METADATA
# title: Only safe sysctls may be set
# description: Sysctls outside the Pod Security Standards safe set can affect the host or other containers.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [network.connect, container.create, service.create, service.update, container.start, container.restart]
#   psa: "Sysctls"
#   cis: "-"
#   severity: high
#   fix_compose: 'remove the entry from sysctls: (safe ones are in params.safe_sysctls)'
#   fix: remove --sysctl <name> (safe ones are in params.safe_sysctls)
package authz.rules.container.no_unsafe_sysctls

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some name, _ in input.container.sysctls
	not name in params.safe_sysctls
	violation := result.violation(rego.metadata.chain(), sprintf("sysctl %s is not in the safe set", [name]))
}

# The interface sysctls a network connect's endpoint asks the daemon to set
# (com.docker.network.endpoint.sysctls): forwarding=1 makes a container on
# two networks a router between them. Those of a create or a service are in
# input.container.sysctls.
deny contains violation if {
	input.route.endpoint == "network.connect"
	some name, _ in object.get(input.network, "endpoint_sysctls", {})
	not name in params.safe_sysctls
	violation := result.violation(rego.metadata.chain(), sprintf("network connect sets sysctl %s, which is not in the safe set", [name]))
}
