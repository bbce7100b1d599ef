# METADATA
# title: Images may only be pulled from an allowed registry
# description: |
#   docker pull (POST /images/create?fromImage=) fetches an image only when
#   its repository matches params.allowed_images, normalized as Docker
#   normalizes it. Off by default (allowed_images ["*"]).
# custom:
#   levels: [baseline, restricted]
#   endpoints: [image.create]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix: pull from an allowed registry (the patterns in the message), or ask an admin to add the repository to params.allowed_images
package authz.rules.image.image_pull_trusted

import data.authz.lib.images
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "image.create"
	input.image.action == "pull"
	images.on
	not images.allowed(input.image.ref)
	violation := result.violation(rego.metadata.chain(), sprintf("pull of %s is from outside the allowed images %s", [
		images.describe(input.image.ref), images.patterns,
	]))
}
