# METADATA
# title: No privileged containers
# custom:
#   severity: high
#   fix: remove --privileged
#   levels: [baseline, restricted]
package authz.rules.container.no_privileged

deny contains {"id": "no_privileged", "msg": "container is privileged", "fix": "remove --privileged"} if {
	input.route.endpoint == "container.create"
	input.container.privileged == true
}

# Used by the timeout test: spins when asked to.
deny contains {"id": "no_privileged", "msg": "slow", "fix": ""} if {
	input.container.image == "slow"
	count([x | some x in numbers.range(1, 100000000)]) > 0
}
