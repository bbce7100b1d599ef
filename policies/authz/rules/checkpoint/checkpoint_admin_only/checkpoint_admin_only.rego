# METADATA
# title: Only admins may create, remove or restore checkpoints
# description: |
#   A checkpoint is a CRIU image of a container's processes. Restoring one
#   (docker start --checkpoint, with --checkpoint-dir naming any directory
#   of the host) restores processes with whatever credentials the image
#   holds, which a crafted image sets freely; creating and removing them
#   writes under the daemon's state. Admins are TLS users listed in data
#   admins.
# custom:
#   levels: [privileged, baseline, restricted]
#   psa: "none"
#   cis: "-"
#   severity: critical
#   fix: start the container without --checkpoint, or ask an admin (a TLS user listed in admins in data.json)
package authz.rules.checkpoint.checkpoint_admin_only

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	some what in _checkpoint
	not request.is_admin
	violation := result.violation(rego.metadata.chain(), sprintf("%s and %s is not an admin", [what, _who]))
}

_checkpoint contains sprintf("docker checkpoint create of %s", [input.route.id]) if input.route.endpoint == "checkpoint.create"

_checkpoint contains sprintf("docker checkpoint rm of %s", [input.route.id]) if input.route.endpoint == "checkpoint.delete"

# The handler reads both with r.Form.Get (exact, case-sensitive keys); any
# value, even empty, is refused: no client sends one it does not mean.
_checkpoint contains sprintf("start of %s restores a checkpoint (?%s=)", [input.route.id, key]) if {
	input.route.endpoint == "container.start"
	some key in ["checkpoint", "checkpoint-dir"]
	input.request.query[key]
}

_who := sprintf("user %q", [input.user.name]) if input.user.name != ""

_who := "the anonymous unix-socket user" if input.user.name == ""
