package authz.rules.image.image_tag_trusted_test

import data.authz.rules.image.image_tag_trusted as rule

_ref(raw, name, familiar) := {
	"raw": raw, "name": name, "familiar": familiar, "domain": "", "path": "", "tag": "latest", "digest": "",
	"is_id": false, "image_id": "", "candidates": [name, familiar], "digests": [],
}

_tag(source, target) := {
	"route": {"endpoint": "image.tag", "id": source.raw, "write": true},
	"user": {"name": ""},
	"image": {"action": "tag", "source": source, "target": target},
}

_evil := _ref("evil/x", "docker.io/evil/x", "evil/x")

_trusted := _ref("registry.example.com/base/x:1", "registry.example.com/base/x", "registry.example.com/base/x")

_on := {"allowed_images": ["registry.example.com/base/*"]}

test_allow_any_tag_by_default if {
	count(rule.deny) == 0 with input as _tag(_evil, _trusted)
}

test_deny_untrusted_into_trusted_name if {
	r := rule.deny with input as _tag(_evil, _trusted) with data.authz_config.params as _on
	[v.msg | some v in r] == ["docker tag gives evil/x (docker.io/evil/x), which is not in the allowed images [registry.example.com/base/*], the trusted name registry.example.com/base/x:1"]
}

test_deny_untagged_id_into_trusted_name if {
	id := {
		"raw": "0123456789ab", "name": "", "familiar": "", "domain": "", "path": "", "tag": "", "digest": "",
		"is_id": true, "image_id": "sha256:0123456789abff", "candidates": [], "digests": [],
	}
	count(rule.deny) == 1 with input as _tag(id, _trusted) with data.authz_config.params as _on
}

test_allow_trusted_retag if {
	src := _ref("registry.example.com/base/y", "registry.example.com/base/y", "registry.example.com/base/y")
	count(rule.deny) == 0 with input as _tag(src, _trusted) with data.authz_config.params as _on
}

test_allow_untrusted_into_untrusted_name if {
	count(rule.deny) == 0 with input as _tag(_evil, _ref("mine/x", "docker.io/mine/x", "mine/x")) with data.authz_config.params as _on
}
