# METADATA
# description: What the request is, from the route the plugin computed.
package authz.lib.request

# is_container_create holds for a container create that carries the typed
# container view (always true for container.create: the plugin denies a
# create it cannot decode before Rego runs).
is_container_create if {
	input.route.endpoint == "container.create"
	input.container
}
