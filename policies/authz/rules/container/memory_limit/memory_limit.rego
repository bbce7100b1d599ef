# METADATA
# title: A memory limit must be set
# description: An unlimited container can exhaust the host's memory.
# custom:
#   levels: [restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "5.10"
#   severity: medium
#   fix_compose: 'set mem_limit: 512m on the service (at most {max_memory}), or deploy.resources.limits.memory, and no memswap_limit: -1'
#   fix: add --memory 512m (at most {max_memory}) and no --memory-swap -1
#   fix_service: add --limit-memory 512m to docker service create
package authz.rules.container.memory_limit

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

_problems contains "no memory limit is set" if {
	r := input.container.resources
	r.memory <= 0
}

_problems contains sprintf("memory limit %d bytes is above the maximum %d", [r.memory, params.max_memory]) if {
	r := input.container.resources
	r.memory > params.max_memory
}

_problems contains "swap is unlimited (--memory-swap -1)" if {
	r := input.container.resources
	r.memory_swap == -1
}
