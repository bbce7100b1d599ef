# METADATA
# title: A CPU limit must be set
# description: An unlimited container can starve the host's other workloads.
# custom:
#   levels: [restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "5.11"
#   severity: medium
#   fix_compose: 'set cpus: 1 on the service (at most {max_cpus}), or deploy.resources.limits.cpus'
#   fix: add --cpus 1 (at most {max_cpus})
#   fix_service: add --limit-cpu 1 to docker service create
package authz.rules.container.cpu_limit

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

_problems contains "no CPU limit is set" if {
	r := input.container.resources
	r.nano_cpus <= 0
	r.cpu_quota <= 0
}

_problems contains sprintf("CPU limit %v is above the maximum %v", [cpus, params.max_cpus]) if {
	r := input.container.resources
	cpus := _cpus(r)
	cpus > params.max_cpus
}

_cpus(r) := r.nano_cpus / 1000000000 if r.nano_cpus > 0

# The CFS period defaults to 100ms when --cpu-period is not given.
_cpus(r) := r.cpu_quota / _period(r) if {
	r.nano_cpus <= 0
	r.cpu_quota > 0
}

_period(r) := r.cpu_period if r.cpu_period > 0

_period(r) := 100000 if r.cpu_period <= 0
