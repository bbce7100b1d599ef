# METADATA
# description: What the request is, from the route the plugin computed.
package authz.lib.request

default _config := {}

_config := data.authz_config

# is_container_create holds for every request that creates containers from
# the typed view input.container: a container create, a swarm service
# create or update (whose tasks are containers), and a start or restart,
# where input.container is the container the daemon stored (made before
# the plugin, or while a rule was in dryrun). The plugin denies such a
# request it cannot decode or look up before Rego runs.
is_container_create if {
	input.route.endpoint in {"container.create", "service.create", "service.update", "container.start", "container.restart"}
	input.container
}

is_service if input.route.endpoint in {"service.create", "service.update"}

# is_admin holds for an authenticated user named in data admins, by user
# name or by one of their groups. On the unix socket without dockward's
# identity broker every user is "" and nobody is an admin.
is_admin if caller_in(object.get(_config, "admins", []))

# caller_in(principals) holds when the authenticated caller is one of
# principals: a list of user names (the original form of admins and
# exempt_users) or {"users": [...], "groups": [...]}. Groups are the
# caller's groups in the host's user database (input.user.groups), primary
# group included; the anonymous user ("") is never anyone.
caller_in(principals) if {
	input.user.name != ""
	input.user.name in _users(principals)
}

caller_in(principals) if {
	input.user.name != ""
	some g in caller_groups
	g in _groups(principals)
}

# caller_groups are the caller's groups; [] when the plugin resolved none
# (an unauthenticated caller, or a TLS user the host does not know).
caller_groups := groups if {
	groups := object.get(object.get(input, "user", {}), "groups", [])
	is_array(groups)
} else := []

_users(p) := p if is_array(p)

_users(p) := object.get(p, "users", []) if is_object(p)

_groups(p) := [] if is_array(p)

_groups(p) := object.get(p, "groups", []) if is_object(p)
