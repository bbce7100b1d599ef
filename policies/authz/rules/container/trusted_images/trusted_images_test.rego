package authz.rules.container.trusted_images_test

import data.authz.lib.fixtures
import data.authz.rules.container.trusted_images as rule

_ref(raw, name, familiar, digest) := {
	"raw": raw, "name": name, "familiar": familiar, "domain": "", "path": "", "tag": "", "digest": digest,
	"is_id": false, "image_id": "", "candidates": [name, familiar], "digests": [],
}

_alpine := _ref("alpine", "docker.io/library/alpine", "alpine", "")

_base := _ref("registry.example.com/base/app:1", "registry.example.com/base/app", "registry.example.com/base/app", "")

_base_pinned := _ref("registry.example.com/base/app@sha256:aaaa", "registry.example.com/base/app", "registry.example.com/base/app", "sha256:aaaa")

_on := {"allowed_images": ["registry.example.com/base/*", "alpine"]}

test_allow_anything_by_default if {
	inp := fixtures.create({"image": "evil/x", "image_ref": _ref("evil/x", "docker.io/evil/x", "evil/x", "")})
	r := rule.deny with input as inp
	r == set()
}

test_allow_compliant_create if {
	r := rule.deny with input as fixtures.create_compliant
	r == set()
}

test_allow_pattern_match if {
	inp := fixtures.create({"image": "registry.example.com/base/app:1", "image_ref": _base})
	count(rule.deny) == 0 with input as inp with data.authz_config.params as _on
	inp2 := fixtures.create({"image": "alpine", "image_ref": _alpine})
	count(rule.deny) == 0 with input as inp2 with data.authz_config.params as _on
}

test_deny_outside_the_allowed_set if {
	inp := fixtures.create({"image": "evil/x", "image_ref": _ref("evil/x", "docker.io/evil/x", "evil/x", "")})
	r := rule.deny with input as inp with data.authz_config.params as _on
	[v.msg | some v in r] == ["image evil/x (docker.io/evil/x) is not in the allowed images [registry.example.com/base/*, alpine]"]
	[v.fix | some v in r] == ["use an image from an allowed registry (the patterns in the message); where digests are required, pin it: image@sha256:…"]
}

test_deny_lookalike_registry if {
	ref := _ref("registry.example.com.evil.io/base/app", "registry.example.com.evil.io/base/app", "registry.example.com.evil.io/base/app", "")
	inp := fixtures.create({"image": ref.raw, "image_ref": ref})
	count(rule.deny) == 1 with input as inp with data.authz_config.params as _on
}

test_deny_unpinned_when_required if {
	inp := fixtures.create({"image": _base.raw, "image_ref": _base})
	r := rule.deny with input as inp with data.authz_config.params as object.union(_on, {"require_digest": true})
	[v.msg | some v in r] == ["image registry.example.com/base/app:1 (registry.example.com/base/app) is not pinned by digest (require_digest is on)"]
}

test_allow_pinned_when_required if {
	inp := fixtures.create({"image": _base_pinned.raw, "image_ref": _base_pinned})
	count(rule.deny) == 0 with input as inp with data.authz_config.params as object.union(_on, {"require_digest": true})
}

test_deny_both_when_outside_and_unpinned if {
	inp := fixtures.create({"image": "evil/x", "image_ref": _ref("evil/x", "docker.io/evil/x", "evil/x", "")})
	count(rule.deny) == 2 with input as inp with data.authz_config.params as object.union(_on, {"require_digest": true})
}

test_deny_digest_alone_turns_it_on if {
	inp := fixtures.create({"image": "evil/x", "image_ref": _ref("evil/x", "docker.io/evil/x", "evil/x", "")})
	r := rule.deny with input as inp with data.authz_config.params as {"require_digest": true}
	[v.msg | some v in r] == ["image evil/x (docker.io/evil/x) is not pinned by digest (require_digest is on)"]
}

test_allow_id_known_by_a_trusted_name if {
	ref := {
		"raw": "0123456789ab", "name": "", "familiar": "", "domain": "", "path": "", "tag": "", "digest": "",
		"is_id": true, "image_id": "sha256:0123456789abff", "candidates": ["alpine", "docker.io/library/alpine"], "digests": [],
	}
	inp := fixtures.create({"image": "0123456789ab", "image_ref": ref})
	count(rule.deny) == 0 with input as inp with data.authz_config.params as object.union(_on, {"require_digest": true})
}

test_deny_id_without_names if {
	ref := {
		"raw": "0123456789ab", "name": "", "familiar": "", "domain": "", "path": "", "tag": "", "digest": "",
		"is_id": true, "image_id": "sha256:0123456789abff", "candidates": [], "digests": [],
	}
	inp := fixtures.create({"image": "0123456789ab", "image_ref": ref})
	r := rule.deny with input as inp with data.authz_config.params as _on
	[v.msg | some v in r] == ["image 0123456789ab (an image id with no repository name) is not in the allowed images [registry.example.com/base/*, alpine]"]
}

test_deny_without_a_normalized_ref if {
	inp := fixtures.create({"image": "alpine", "image_ref": null})
	count(rule.deny) == 1 with input as inp with data.authz_config.params as _on
}

test_deny_service if {
	inp := object.union(fixtures.create({"image": "evil/x", "image_ref": _ref("evil/x", "docker.io/evil/x", "evil/x", "")}), {
		"route": {"endpoint": "service.create"},
		"service": {"name": "s", "plugin": false},
	})
	count(rule.deny) == 1 with input as inp with data.authz_config.params as _on
}
