# METADATA
# title: Untrusted images may not be tagged into a trusted name
# description: |
#   docker tag (POST /images/{name}/tag) of an image that is not in
#   params.allowed_images, under a name that is, would let it run as a
#   trusted image. The source is resolved like a container's image (an id
#   matches on the names the daemon knows it by). Off by default.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [image.tag]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix: tag only images from an allowed registry; bring others in by pushing them to an allowed registry and pulling them from it
package authz.rules.image.image_tag_trusted

import data.authz.lib.images
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "image.tag"
	images.on
	images.allowed(input.image.target)
	not images.allowed(input.image.source)
	violation := result.violation(rego.metadata.chain(), sprintf("docker tag gives %s, which is not in the allowed images %s, the trusted name %s", [
		images.describe(input.image.source), images.patterns, input.image.target.raw,
	]))
}
