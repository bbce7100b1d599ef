# METADATA
# title: Services may not run plugins
# description: A swarm service with a PluginSpec installs a plugin on every node, around the plugin rules (B11, B12).
# custom:
#   levels: [privileged, baseline, restricted]
#   endpoints: [service.create, service.update]
#   psa: "none"
#   cis: "-"
#   severity: critical
#   fix: ask an admin to manage plugin services
package authz.rules.service.service_no_plugin

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_service
	input.service.plugin
	not request.is_admin
	violation := result.violation(rego.metadata.chain(), sprintf("service %q runs a plugin", [input.service.name]))
}
