# METADATA
# title: docker cp into a container only when it runs as a numeric uid
# description: |
#   PUT /containers/{id}/archive writes files into a container, its volumes
#   included (even where the root filesystem is read-only). A container
#   whose user is a name (or whose group is) resolves it in its own
#   /etc/passwd and /etc/group at every start: a copied-in passwd maps the
#   name to uid 0. Non-admins may copy only into containers whose stored
#   user (the image's USER merged in; empty is root) is a numeric uid with a
#   numeric group or none.
# custom:
#   levels: [restricted]
#   endpoints: [container.archive_put]
#   psa: "Running as Non-root"
#   cis: "-"
#   severity: high
#   fix: create the container with a numeric --user (e.g. --user 1000:1000), or ask an admin (a TLS user listed in admins in data.json)
package authz.rules.archive.archive_named_user

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "container.archive_put"
	some why in _unsafe
	not request.is_admin
	violation := result.violation(rego.metadata.chain(), sprintf("docker cp into %s, which %s", [input.route.id, why]))
}

_unsafe contains "runs as root (no user)" if input.archive.user.raw == ""

_unsafe contains sprintf("runs as the user name %q (resolved in the container's /etc/passwd at start)", [input.archive.user.name]) if {
	input.archive.user.raw != ""
	input.archive.user.uid == null
}

_unsafe contains sprintf("runs with the group name %q (resolved in the container's /etc/group at start)", [input.archive.user.group]) if {
	input.archive.user.group != ""
	not regex.match(`^[0-9]+$`, input.archive.user.group)
}

# The plugin always builds input.archive for this route; without it nothing
# is known of the container.
_unsafe contains "the plugin could not look up" if not input.archive
