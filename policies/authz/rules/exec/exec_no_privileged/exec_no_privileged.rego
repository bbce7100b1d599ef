# METADATA
# title: Privileged exec is not allowed
# description: docker exec --privileged gives the new process every capability, whatever the container was created with (B9).
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.exec]
#   psa: "Privileged Containers"
#   cis: "5.22"
#   severity: critical
#   fix: remove --privileged from docker exec
package authz.rules.exec.exec_no_privileged

import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "container.exec"
	input.exec.privileged == true
	violation := result.violation(rego.metadata.chain(), sprintf("exec into %s is privileged", [input.exec.container]))
}
