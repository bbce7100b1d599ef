package authz.rules.image.image_mint_admin_only_test

import data.authz.rules.image.image_mint_admin_only as rule

_req(endpoint, action, user) := {
	"route": {"endpoint": endpoint, "id": "", "write": true},
	"user": {"name": user},
	"image": {"action": action},
}

_on := {"allowed_images": ["registry.example.com/base/*"]}

test_allow_everyone_by_default if {
	count(rule.deny) == 0 with input as _req("image.load", "load", "")
	count(rule.deny) == 0 with input as _req("image.create", "import", "bob")
	count(rule.deny) == 0 with input as _req("container.commit", "", "bob")
}

test_deny_non_admins_when_trust_is_on if {
	r := rule.deny with input as _req("image.load", "load", "") with data.authz_config.params as _on
	[v.msg | some v in r] == ["docker load makes local images under any name and the anonymous unix-socket user is not an admin (images are restricted to [registry.example.com/base/*])"]
	count(rule.deny) == 1 with input as _req("image.create", "import", "bob") with data.authz_config.params as _on
	count(rule.deny) == 1 with input as _req("container.commit", "", "bob") with data.authz_config.params as {"require_digest": true}
}

# Both builders send POST /build (BuildKit with ?version=2, after /session);
# an untagged build still pulls its FROM images inside the daemon.
test_deny_builds_when_trust_is_on if {
	count(rule.deny) == 0 with input as _req("build", "", "bob")
	count(rule.deny) == 1 with input as _req("build", "", "bob") with data.authz_config.params as _on
	count(rule.deny) == 1 with input as _req("build", "", "") with data.authz_config.params as {"require_digest": true}
	count(rule.deny) == 0 with input as _req("build.prune", "", "") with data.authz_config.params as _on
	count(rule.deny) == 0 with input as _req("build", "", "ops") with data.authz_config.params as _on
		with data.authz_config.admins as ["ops"]
}

test_allow_admins if {
	count(rule.deny) == 0 with input as _req("image.load", "load", "ops") with data.authz_config.params as _on
		with data.authz_config.admins as ["ops"]
}

test_allow_pull_is_not_minting if {
	count(rule.deny) == 0 with input as _req("image.create", "pull", "bob") with data.authz_config.params as _on
}
