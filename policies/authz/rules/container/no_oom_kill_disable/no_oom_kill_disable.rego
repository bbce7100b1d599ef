# METADATA
# title: The OOM killer may not be disabled
# description: A container the OOM killer cannot stop can take the host's memory for good.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "-"
#   severity: medium
#   fix_compose: 'remove oom_kill_disable: true'
#   fix: remove --oom-kill-disable
package authz.rules.container.no_oom_kill_disable

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	input.container.resources.oom_kill_disable == true
	violation := result.violation(rego.metadata.chain(), "the OOM killer is disabled")
}
