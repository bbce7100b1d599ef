package authz.rules.image.image_pull_trusted_test

import data.authz.rules.image.image_pull_trusted as rule

_pull(raw, name, familiar) := {
	"route": {"endpoint": "image.create", "id": "", "write": true},
	"user": {"name": ""},
	"image": {"action": "pull", "ref": {
		"raw": raw, "name": name, "familiar": familiar, "domain": "", "path": "", "tag": "latest", "digest": "",
		"is_id": false, "image_id": "", "candidates": [name, familiar], "digests": [],
	}},
}

_on := {"allowed_images": ["registry.example.com/base/*", "docker.io/library/*"]}

test_allow_any_pull_by_default if {
	count(rule.deny) == 0 with input as _pull("evil.io/x:1", "evil.io/x", "evil.io/x")
}

test_allow_pull_from_allowed_set if {
	count(rule.deny) == 0 with input as _pull("alpine:3", "docker.io/library/alpine", "alpine") with data.authz_config.params as _on
	count(rule.deny) == 0 with input as _pull("registry.example.com/base/app", "registry.example.com/base/app", "registry.example.com/base/app")
		with data.authz_config.params as _on
}

test_deny_pull_from_outside if {
	r := rule.deny with input as _pull("evil.io/x:1", "evil.io/x", "evil.io/x") with data.authz_config.params as _on
	[v.msg | some v in r] == ["pull of evil.io/x:1 (evil.io/x) is from outside the allowed images [registry.example.com/base/*, docker.io/library/*]"]
}

test_deny_docker_hub_user_repo if {
	count(rule.deny) == 1 with input as _pull("evil/alpine", "docker.io/evil/alpine", "evil/alpine") with data.authz_config.params as _on
}

test_allow_import_is_not_a_pull if {
	inp := {"route": {"endpoint": "image.create"}, "user": {"name": ""}, "image": {"action": "import"}}
	count(rule.deny) == 0 with input as inp with data.authz_config.params as _on
}

test_allow_pull_when_only_digests_are_required if {
	count(rule.deny) == 0 with input as _pull("evil.io/x:1", "evil.io/x", "evil.io/x") with data.authz_config.params as {"require_digest": true}
}
