# METADATA
# description: |
#   What makes a container one that others must not join: the powers a
#   namespace or --volumes-from would share. The plugin looked the peer up
#   on the daemon (input.container.peers).
package authz.lib.peer

import data.authz.lib.params
import data.authz.lib.paths

# problems(c) is the set of reasons container c is not safe to join.
problems(c) := (((({"it is privileged" | c.privileged} | {
sprintf("it shares the host's %s namespace", [kind]) |
	some kind, mode in c.namespaces
	lower(mode) == "host"
}) | {
sprintf("it adds capability %s", [cap]) |
	some cap in c.cap_add
	not cap in params.allowed_capabilities
}) | {"it runs with an unconfined security profile" | _unconfined(c)}) | {
"it has host devices" |
	count(c.devices) > 0
}) | mount_problems(c)

# mount_problems(c) is the set of reasons c's mounts reach the host.
mount_problems(c) := {sprintf("it mounts %s", [msg]) |
	some m in c.mounts
	some hp in paths.reached(m)
	msg := trim_prefix(paths.problem(hp.host_path, hp.resolved), "host path ")
}

_unconfined(c) if lower(c.security.seccomp) == "unconfined"

_unconfined(c) if lower(c.security.apparmor) == "unconfined"

_unconfined(c) if "disable" in c.security.labels

_unconfined(c) if c.masked_paths_set

# describe renders problems for a message.
describe(ps) := concat(", ", sort([p | some p in ps]))

# shown(p) names peer p for a message: its target, and for a peer reached
# through other containers (X --volumes-from A, A --volumes-from B) the
# chain it was reached through.
shown(p) := sprintf("%q", [p.target]) if count(object.get(p, "through", [])) == 0

shown(p) := sprintf("%q (reached through %s)", [p.target, concat(" -> ", p.through)]) if count(object.get(p, "through", [])) > 0
