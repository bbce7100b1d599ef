# METADATA
# description: |
#   Image trust, shared by the rules that decide which images may run, be
#   pulled or be tagged. The plugin normalizes every image reference with
#   Docker's own parser (alpine is docker.io/library/alpine:latest) and
#   resolves an image id to the names the daemon knows it by; a reference is
#   trusted when one of those names matches params.allowed_images and, with
#   params.require_digest, it is pinned. Off by default (allowed_images ["*"]).
package authz.lib.images

import data.authz.lib.params

# on holds when the operator restricted images. While it does not, the image
# rules are no-ops and a fresh install breaks nothing.
on if not _allow_all

on if params.require_digest

_allow_all if "*" in params.allowed_images

# allowed(ref): a name the image goes by (normalized or familiar) matches an
# allowed pattern. "/" delimits, so * stays in one path segment.
allowed(_) if _allow_all

allowed(ref) if {
	some p in params.allowed_images
	some name in ref.candidates
	glob.match(p, ["/"], name)
}

# pinned(ref): the reference names one content, by digest or by image id.
pinned(ref) if ref.digest != ""

pinned(ref) if {
	ref.is_id
	ref.image_id != ""
}

# trusted(ref): allowed and, when digests are required, pinned.
trusted(ref) if {
	allowed(ref)
	not unpinned(ref)
}

# unpinned(ref): digests are required and ref has none.
unpinned(ref) if {
	params.require_digest
	not pinned(ref)
}

# patterns is the allowed set as messages show it.
patterns := sprintf("[%s]", [concat(", ", params.allowed_images)])

# describe(ref) names an image in a message: as sent, with what it means.
describe(ref) := sprintf("%s (%s)", [ref.raw, ref.name]) if {
	not ref.is_id
	ref.raw != ""
	ref.raw != ref.name
}

describe(ref) := ref.name if {
	not ref.is_id
	ref.raw != ""
	ref.raw == ref.name
}

describe(ref) := "(none given)" if ref.raw == ""

describe(ref) := sprintf("%s (image %s, known as %s)", [ref.raw, ref.image_id, concat(", ", ref.candidates)]) if {
	ref.is_id
	count(ref.candidates) > 0
}

describe(ref) := sprintf("%s (an image id with no repository name)", [ref.raw]) if {
	ref.is_id
	ref.image_id != ""
	count(ref.candidates) == 0
}

describe(ref) := sprintf("%s (a short image id dockward does not resolve; give at least 4 hex digits or the name)", [ref.raw]) if {
	ref.is_id
	ref.image_id == ""
}
