# METADATA
# title: The cgroup parent may not be changed
# description: A custom cgroup parent can escape the limits the daemon applies.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "5.24"
#   severity: medium
#   fix_compose: 'remove cgroup_parent:'
#   fix: remove --cgroup-parent
package authz.rules.container.no_cgroup_parent

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	parent := input.container.resources.cgroup_parent
	parent != ""
	violation := result.violation(rego.metadata.chain(), sprintf("cgroup parent is set to %q", [parent]))
}
