# METADATA
# title: Only admins may manage swarm membership
# description: |
#   Swarm membership is root on the host: a manager join token (GET /swarm)
#   lets a daemon the caller controls join and schedule a service that binds
#   the host's / onto this node, and its task containers are created inside
#   dockerd, where no plugin sees them. Joining someone else's swarm, init,
#   update (autolock, token rotation), unlock, leave, the unlock key and node
#   changes (promote, demote, availability, removal) are the same power.
#   Admins are TLS users listed in data admins. GET /info carries no join
#   token or unlock key and stays open.
# custom:
#   levels: [privileged, baseline, restricted]
#   psa: "none"
#   cis: "-"
#   severity: critical
#   fix: ask an admin (a TLS user listed in admins in data.json) to manage the swarm
package authz.rules.swarm.swarm_admin_only

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	some why in _swarm_power
	not request.is_admin
	violation := result.violation(rego.metadata.chain(), sprintf("%s %s %s and %s is not an admin", [
		input.request.method, input.request.path, why, _who,
	]))
}

# Every swarm.* write: init, join, leave, update, unlock.
_swarm_power contains "changes swarm membership" if {
	startswith(input.route.endpoint, "swarm.")
	input.route.write
}

# The reads that disclose secrets: the join tokens and the unlock key.
_swarm_power contains "discloses the swarm join tokens" if input.route.endpoint == "swarm.inspect"

_swarm_power contains "discloses the swarm unlock key" if input.route.endpoint == "swarm.unlockkey"

_swarm_power contains "changes a swarm node (role, availability, labels or membership)" if {
	input.route.endpoint in {"node.update", "node.delete"}
}

_who := sprintf("user %q", [input.user.name]) if input.user.name != ""

_who := "the anonymous unix-socket user" if input.user.name == ""
