# METADATA
# title: Volumes may not bind host paths
# description: |
#   docker volume create --opt type=none --opt o=bind --opt device=/ makes a
#   volume that is a host directory; any container mounting it by name then
#   gets the host's files (B7).
# custom:
#   severity: critical
#   fix: create the volume without --opt device=/--opt o=bind (or ask an admin to add the path to params.allowed_host_paths)
package authz.rules.volume.volume_host_path

import data.authz.lib.paths
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "volume.create"
	input.volume.host_path != ""
	msg := paths.problem(input.volume.host_path, input.volume.resolved)
	violation := result.violation(rego.metadata.chain(), sprintf("volume %q binds %s", [input.volume.name, msg]))
}
