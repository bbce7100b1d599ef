# METADATA
# title: Containers must run as a non-root user
# description: |
#   The user is parsed as the runtime does: the part before ":" is a uid when
#   strconv.Atoi accepts it ("00", "+0" are uid 0), otherwise a name looked up
#   in the image. A name that cannot be shown to be non-root is denied.
# custom:
#   levels: [restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "Running as Non-root"
#   cis: "-"
#   severity: high
#   fix_compose: 'set user: "1000:1000" on the service (a non-zero uid)'
#   fix: add --user 1000:1000 (a non-zero uid)
package authz.rules.container.non_root_user

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

_problems contains sprintf("image %s sets no USER, so it runs as root", [input.container.image]) if {
	user := input.container.user
	user.raw == ""
	_source(user) == "image"
}

_problems contains "no user is set and the image's user cannot be verified" if {
	user := input.container.user
	user.raw == ""
	_source(user) != "image"
}

_problems contains sprintf("%s %q is uid %d (root)", [_whose(user), user.raw, user.uid]) if {
	user := input.container.user
	user.uid == 0
}

_problems contains sprintf("user %q has a negative uid", [user.raw]) if {
	user := input.container.user
	is_number(user.uid)
	user.uid < 0
}

# A root name resolved to uid 0 is reported once, by the uid.
_problems contains sprintf("%s %q is root", [_whose(user), user.raw]) if {
	user := input.container.user
	user.name == "root"
	user.uid != 0
}

_problems contains sprintf("user name %q cannot be shown to be non-root (use a numeric uid)", [user.raw]) if {
	user := input.container.user
	user.raw != ""
	user.uid == null
	user.name != "root"
	not user.name in params.allowed_user_names
}

_whose(user) := "the image's USER" if _source(user) == "image"

_whose(user) := "user" if _source(user) != "image"

_source(user) := object.get(user, "source", "request")
