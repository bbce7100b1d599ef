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

# is_admin holds for a TLS-authenticated user listed in data admins. On the
# unix socket every user is "" and nobody is an admin.
is_admin if {
	input.user.name != ""
	input.user.name in object.get(_config, "admins", [])
}
