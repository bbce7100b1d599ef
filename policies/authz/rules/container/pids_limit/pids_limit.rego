# METADATA
# title: A pids limit must be set
# description: Without one, a fork bomb in a container takes the host down.
# custom:
#   levels: [restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "5.28"
#   severity: medium
#   fix_compose: 'set pids_limit: 256 on the service (at most {max_pids}), or deploy.resources.limits.pids'
#   fix: add --pids-limit 256 (at most {max_pids})
#   fix_service: add --limit-pids 256 to docker service create
package authz.rules.container.pids_limit

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

_problems contains "no pids limit is set" if {
	limit := input.container.resources.pids_limit
	limit == null
}

_problems contains sprintf("pids limit is %d, which means unlimited", [limit]) if {
	limit := input.container.resources.pids_limit
	limit != null
	limit <= 0
}

_problems contains sprintf("pids limit %d is above the maximum %d", [limit, params.max_pids]) if {
	limit := input.container.resources.pids_limit
	limit != null
	limit > params.max_pids
}
