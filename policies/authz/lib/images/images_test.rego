package authz.lib.images_test

import data.authz.lib.images

# The refs below are what the plugin's Go (plugin/input/image.go) builds.
_alpine := {
	"raw": "alpine", "name": "docker.io/library/alpine", "familiar": "alpine", "domain": "docker.io",
	"path": "library/alpine", "tag": "latest", "digest": "", "is_id": false, "image_id": "",
	"candidates": ["alpine", "docker.io/library/alpine"], "digests": [],
}

_base_pinned := {
	"raw": "registry.example.com:5000/base/app@sha256:aaaa", "name": "registry.example.com:5000/base/app",
	"familiar": "registry.example.com:5000/base/app", "domain": "registry.example.com:5000", "path": "base/app",
	"tag": "", "digest": "sha256:aaaa", "is_id": false, "image_id": "",
	"candidates": ["registry.example.com:5000/base/app"], "digests": [],
}

_nested := object.union(_base_pinned, {
	"raw": "registry.example.com:5000/base/team/app", "name": "registry.example.com:5000/base/team/app",
	"digest": "", "tag": "latest", "candidates": ["registry.example.com:5000/base/team/app"],
})

_id_of_alpine := {
	"raw": "0123456789ab", "name": "", "familiar": "", "domain": "", "path": "", "tag": "", "digest": "",
	"is_id": true, "image_id": "sha256:0123456789ab0000", "candidates": ["alpine", "docker.io/library/alpine"],
	"digests": ["docker.io/library/alpine@sha256:bbbb"],
}

_dangling_id := object.union(_id_of_alpine, {"candidates": [], "digests": []})

_evil := object.union(_alpine, {
	"raw": "evil/alpine", "name": "docker.io/evil/alpine", "familiar": "evil/alpine",
	"path": "evil/alpine", "candidates": ["docker.io/evil/alpine", "evil/alpine"],
})

test_allow_everything_by_default if {
	not images.on with data.authz_config as {}
	images.trusted(_evil) with data.authz_config as {}
	images.trusted(_dangling_id) with data.authz_config as {}
}

test_allow_star_among_others_is_off if {
	not images.on with data.authz_config.params as {"allowed_images": ["alpine", "*"]}
}

test_allow_require_digest_alone_turns_it_on if {
	images.on with data.authz_config.params as {"require_digest": true}
}

test_allow_familiar_and_normalized_patterns if {
	images.allowed(_alpine) with data.authz_config.params as {"allowed_images": ["alpine"]}
	images.allowed(_alpine) with data.authz_config.params as {"allowed_images": ["docker.io/library/alpine"]}
	images.allowed(_alpine) with data.authz_config.params as {"allowed_images": ["docker.io/library/*"]}
}

test_deny_other_namespace_same_short_name if {
	not images.allowed(_evil) with data.authz_config.params as {"allowed_images": ["alpine"]}
	not images.allowed(_evil) with data.authz_config.params as {"allowed_images": ["docker.io/library/*"]}
}

test_star_stays_in_one_segment if {
	images.allowed(_base_pinned) with data.authz_config.params as {"allowed_images": ["registry.example.com:5000/base/*"]}
	not images.allowed(_nested) with data.authz_config.params as {"allowed_images": ["registry.example.com:5000/base/*"]}
	images.allowed(_nested) with data.authz_config.params as {"allowed_images": ["registry.example.com:5000/base/**"]}
	not images.allowed(_base_pinned) with data.authz_config.params as {"allowed_images": ["registry.example.com/base/*"]}
}

test_allow_id_matched_on_its_names if {
	images.allowed(_id_of_alpine) with data.authz_config.params as {"allowed_images": ["alpine"]}
}

test_deny_id_without_names if {
	not images.allowed(_dangling_id) with data.authz_config.params as {"allowed_images": ["alpine"]}
}

test_pinned if {
	images.pinned(_base_pinned)
	images.pinned(_id_of_alpine)
	not images.pinned(_alpine)
	not images.pinned(object.union(_dangling_id, {"raw": "ab", "image_id": ""}))
}

test_deny_unpinned_when_required if {
	not images.trusted(_alpine) with data.authz_config.params as {"allowed_images": ["alpine"], "require_digest": true}
	images.trusted(_id_of_alpine) with data.authz_config.params as {"allowed_images": ["alpine"], "require_digest": true}
}

test_describe if {
	images.describe(_alpine) == "alpine (docker.io/library/alpine)"
	images.describe(object.union(_alpine, {"raw": "docker.io/library/alpine"})) == "docker.io/library/alpine"
	images.describe(_id_of_alpine) == "0123456789ab (image sha256:0123456789ab0000, known as alpine, docker.io/library/alpine)"
	images.describe(_dangling_id) == "0123456789ab (an image id with no repository name)"
	images.describe(object.union(_dangling_id, {"raw": "ab", "image_id": ""})) == "ab (a short image id dockward does not resolve; give at least 4 hex digits or the name)"
	images.patterns == "[a, b/*]" with data.authz_config.params as {"allowed_images": ["a", "b/*"]}
}
