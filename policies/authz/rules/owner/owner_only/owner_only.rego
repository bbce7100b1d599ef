# METADATA
# title: Only an object's owner (or an admin) may act on it
# description: |
#   dockward records who created each container, swarm service, volume and
#   network (from the create's response) and a user who is not an admin may
#   act on an object only when they created it: exec, attach, start, stop,
#   kill, restart, pause, unpause, update, rename, logs, archive (docker cp),
#   export, commit, wait, resize and delete of a container (exec start and
#   resize through its exec); network connect and disconnect (the container
#   must be theirs, and the network too when it has an owner: a network
#   nobody owns, bridge, host and none among them, is shared); volume delete and
#   update, network delete; service update, rollback, delete and logs (a task's
#   logs too). A container create, and a service's task, may not mount a
#   named volume, join a network, or share the namespaces or volumes of a
#   container that another user owns (one nobody owns is shared); nor may a
#   build's RUN steps (docker build --network <net> or container:<c>). A
#   name that is also the start of another object's id is judged as both
#   (the daemon falls back to the id prefix once the named one is renamed
#   or removed): name your object by its full id. Prune
#   endpoints delete everyone's objects: admins only. An object nobody owns
#   (made before dockward, or whose record was lost) is admins' only until
#   `dockward own` gives it to someone. The rule judges only requests that
#   carry a user (identity on: a TLS client CN); on the plain unix socket
#   every caller is "" and the rule does not apply. Admins are the users
#   listed in data admins. Reads that show state (inspect, ps, top, stats)
#   stay open: the authz protocol cannot filter a response.
# custom:
#   levels: [privileged, baseline, restricted]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix: act on your own objects, or ask an admin (a user listed in admins in data.json) to act or to give it to you with `dockward own`
package authz.rules.owner.owner_only

import data.authz.lib.request
import data.authz.lib.result

# The endpoints input.owner is built for (plugin/input/owner.go).
_owned_endpoints := {
	"container.start", "container.stop", "container.restart", "container.kill", "container.pause",
	"container.unpause", "container.wait", "container.resize", "container.attach", "container.attach_ws",
	"container.logs", "container.export", "container.archive", "container.archive_stat",
	"container.archive_put", "container.copy", "container.exec", "container.rename", "container.update",
	"container.delete", "container.commit", "exec.start", "exec.resize",
	"network.connect", "network.disconnect", "network.delete", "volume.delete", "volume.update",
	"service.update", "service.delete", "service.logs", "task.logs",
}

_prune_endpoints := {"container.prune", "volume.prune", "network.prune"}

_judged if {
	input.user.name != ""
	not request.is_admin
}

deny contains violation if {
	_judged
	some obj in input.owner.objects
	_refused(obj)
	violation := result.violation(rego.metadata.chain(), sprintf("user %q may not %s %s %s: it %s", [
		input.user.name, _verb(obj), obj.kind, _named(obj), _whose(obj),
	]))
}

# The plugin builds input.owner for these endpoints whenever there is a
# user; without it (no ownership store) nobody's ownership is known.
deny contains violation if {
	_judged
	input.route.endpoint in _owned_endpoints
	not input.owner
	violation := result.violation(rego.metadata.chain(), sprintf("user %q may not %s %s: dockward has no ownership store to tell whose it is", [
		input.user.name, _action, input.route.id,
	]))
}

deny contains violation if {
	_judged
	input.route.endpoint in _prune_endpoints
	violation := result.violation(rego.metadata.chain(), sprintf("user %q may not prune (%s): it removes other users' objects; only admins may", [
		input.user.name, input.route.endpoint,
	]))
}

_refused(obj) if {
	obj.role == "target"
	obj.owner != input.user.name
}

_refused(obj) if {
	obj.role == "attach"
	obj.owner != ""
	obj.owner != input.user.name
}

# A container being created (or a service's task) uses the objects it
# mounts, joins or shares; any other request does what its endpoint says.
_creates := {"container.create", "service.create", "service.update", "build"}

_uses := {"volume": "mount", "network": "join", "container": "share the namespaces or volumes of"}

_verb(obj) := _uses[obj.kind] if {
	input.route.endpoint in _creates
	obj.role == "attach"
} else := _action

# What the request does, as a verb on the object: "stop", "delete".
_action := _verbs[input.route.endpoint]

_action := verb if {
	not _verbs[input.route.endpoint]
	parts := split(input.route.endpoint, ".")
	verb := parts[count(parts) - 1]
}

_verbs := {
	"exec.start": "run an exec in",
	"exec.resize": "resize an exec in",
	"container.exec": "exec in",
	"container.attach": "attach to",
	"container.attach_ws": "attach to",
	"container.archive": "copy files from",
	"container.archive_stat": "copy files from",
	"container.archive_put": "copy files into",
	"container.copy": "copy files from",
	"container.logs": "read the logs of",
	"service.logs": "read the logs of",
	"task.logs": "read the logs of a task of",
	"container.wait": "wait for",
}

# A reference that names one object and is an id prefix of another: the
# daemon acts on the other once the named one is renamed or removed.
_named(obj) := sprintf("%s (%s), whose id starts with %q, which also names a %s of yours (if that one is renamed or removed first, the daemon acts on this one): name yours by its full id", [
	obj.name, substring(obj.id, 0, 12), obj.ref, obj.kind,
]) if {
	some other in input.owner.objects
	other.ref == obj.ref
	other.name == obj.ref
	other.id != obj.id
} else := sprintf("%s (%s)", [obj.name, substring(obj.id, 0, 12)]) if {
	obj.name != ""
	obj.name != obj.id
} else := substring(obj.id, 0, 64)

# Whose it is, without naming another user: the caller learns only that
# it is not theirs.
_whose(obj) := "belongs to nobody (made before dockward, or its record was lost): only admins may act on it, or give it to a user with dockward own" if {
	obj.owner == ""
} else := "belongs to another user"
