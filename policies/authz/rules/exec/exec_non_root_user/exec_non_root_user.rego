# METADATA
# title: exec must run as a non-root user
# description: |
#   docker exec -u 0 runs a root shell in a container that was admitted as
#   non-root (B9). Without -u, the exec runs as the container's user, which
#   the plugin looked up.
# custom:
#   levels: [restricted]
#   endpoints: [container.exec]
#   psa: "Running as Non-root"
#   cis: "5.23"
#   severity: high
#   fix: use docker exec -u 1000 (a non-zero uid), or no -u in a container created with --user
package authz.rules.exec.exec_non_root_user

import data.authz.lib.params
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "container.exec"
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

_problems contains sprintf("exec into %s runs as root (user %q from the %s)", [input.exec.container, u.raw, u.source]) if {
	u := input.exec.user
	_root(u)
}

_problems contains sprintf("exec user %q cannot be shown to be non-root", [u.raw]) if {
	u := input.exec.user
	not _root(u)
	u.uid == null
	not u.name in params.allowed_user_names
}

_root(u) if u.uid == 0

_root(u) if u.name == "root"

_root(u) if u.raw == ""

_root(u) if {
	is_number(u.uid)
	u.uid < 0
}
