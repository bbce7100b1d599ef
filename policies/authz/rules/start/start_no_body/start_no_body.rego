# METADATA
# title: container start may not carry a configuration
# description: |
#   API versions before 1.24 accept a HostConfig in the start body, applied
#   after the create was checked (B10). Engines before 26 still honour it.
# custom:
#   levels: [privileged, baseline, restricted]
#   endpoints: [container.start]
#   psa: "none"
#   cis: "-"
#   severity: critical
#   fix: start the container without a body (docker start sends none); put the configuration in docker create
package authz.rules.start.start_no_body

import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "container.start"
	input.body != null
	input.body != {}
	violation := result.violation(rego.metadata.chain(), sprintf("start of %s carries a configuration body", [input.route.id]))
}
