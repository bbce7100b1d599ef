# METADATA
# title: Images must come from an allowed registry
# description: |
#   A container (or a swarm service's tasks) runs only an image whose
#   repository matches params.allowed_images, and, with
#   params.require_digest, one pinned by digest or image id. The plugin
#   normalizes the reference with Docker's own parser (alpine is
#   docker.io/library/alpine) and resolves an image id or short id to the
#   names the daemon knows it by. Off by default (allowed_images ["*"]).
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix_compose: 'set image: to one from an allowed registry (the patterns in the message); where digests are required, pin it: image: name@sha256:…'
#   fix: "use an image from an allowed registry (the patterns in the message); where digests are required, pin it: image@sha256:…"
package authz.rules.container.trusted_images

import data.authz.lib.images
import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	images.on
	not images.allowed(_ref)
	violation := result.violation(rego.metadata.chain(), sprintf("image %s is not in the allowed images %s", [
		images.describe(_ref), images.patterns,
	]))
}

deny contains violation if {
	request.is_container_create
	params.require_digest
	not images.pinned(_ref)
	violation := result.violation(rego.metadata.chain(), sprintf("image %s is not pinned by digest (require_digest is on)", [
		images.describe(_ref),
	]))
}

# A container view without a normalized reference (which the plugin always
# builds) has no names and no digest: it is never trusted.
default _ref := {"raw": "(unknown)", "name": "not normalized by the plugin", "is_id": false, "digest": "", "candidates": []}

_ref := input.container.image_ref if is_object(input.container.image_ref)
