# METADATA
# title: Only admins may load, import, commit or build images while image trust is on
# description: |
#   docker load, docker import, docker commit and docker build make local
#   images under any name, trusted ones included, from content no registry
#   vouches for; a build also pulls its FROM images inside the daemon, past
#   image_pull_trusted (both builders: the legacy one and BuildKit's
#   POST /build?version=2 after /session). While image trust is on
#   (params.allowed_images other than ["*"], or params.require_digest) only
#   admins may. Off by default.
# custom:
#   levels: [privileged, baseline, restricted]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix: build and push the image elsewhere (CI) to an allowed registry and pull it from there, or ask an admin (a TLS user listed in admins in data.json)
package authz.rules.image.image_mint_admin_only

import data.authz.lib.images
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	images.on
	some what in _mints
	not request.is_admin
	violation := result.violation(rego.metadata.chain(), sprintf("%s makes local images under any name and %s is not an admin (images are restricted to %s)", [
		what, _who, images.patterns,
	]))
}

_mints contains "docker load" if input.route.endpoint == "image.load"

_mints contains "docker import" if {
	input.route.endpoint == "image.create"
	input.image.action == "import"
}

_mints contains "docker commit" if input.route.endpoint == "container.commit"

_mints contains "docker build" if input.route.endpoint == "build"

_who := sprintf("user %q", [input.user.name]) if input.user.name != ""

_who := "the anonymous unix-socket user" if input.user.name == ""
