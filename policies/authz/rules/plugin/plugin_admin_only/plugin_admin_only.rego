# METADATA
# title: Only admins may change plugins
# description: |
#   Installing, enabling, disabling, upgrading, configuring or removing a
#   plugin can disable dockward itself or install a privileged plugin (B12).
#   Admins are TLS users listed in data admins.
# custom:
#   levels: [privileged, baseline, restricted]
#   psa: "none"
#   cis: "-"
#   severity: critical
#   fix: ask an admin (a TLS user listed in admins in data.json) to manage plugins
package authz.rules.plugin.plugin_admin_only

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	startswith(input.route.endpoint, "plugin.")
	input.route.write
	not request.is_admin
	violation := result.violation(rego.metadata.chain(), sprintf("%s %s changes plugins and %s is not an admin", [
		input.request.method, input.request.path, _who,
	]))
}

_who := sprintf("user %q", [input.user.name]) if input.user.name != ""

_who := "the anonymous unix-socket user" if input.user.name == ""
