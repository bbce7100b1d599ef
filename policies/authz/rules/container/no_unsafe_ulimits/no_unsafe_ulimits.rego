# METADATA
# title: Ulimits may be raised only within an allowlist
# description: |
#   The daemon sets --ulimit values as the container's rlimits, soft and
#   hard, above the host's defaults if asked: memlock unlimited lets a
#   process pin host memory, rtprio and nice let it starve the host's CPUs
#   with real-time scheduling (with the matching capability, or as root).
#   params.allowed_ulimits maps each name that may be set to its maximum
#   (soft and hard); -1 (unlimited) passes only where the maximum is -1.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "5.18"
#   severity: medium
#   fix_compose: 'remove the entry from ulimits: (or keep it within params.allowed_ulimits, e.g. ulimits: {nofile: 1024})'
#   fix: remove the --ulimit (or keep it within params.allowed_ulimits, e.g. --ulimit nofile=1024:1024)
package authz.rules.container.no_unsafe_ulimits

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some u in object.get(input.container, "ulimits", [])
	some msg in _problems(u)
	violation := result.violation(rego.metadata.chain(), msg)
}

_problems(u) := {sprintf("ulimit %s may not be set", [u.name])} if not u.name in object.keys(params.allowed_ulimits)

_problems(u) := {sprintf("ulimit %s=%d:%d is above the maximum %d", [u.name, u.soft, u.hard, max]) |
	some v in [u.soft, u.hard]
	_above(v, max)
} if {
	max := params.allowed_ulimits[u.name]
	max != -1
}

_above(v, _) if v < 0

_above(v, max) if v > max
