package authz_test

import data.authz
import data.authz.lib.fixtures

_privileged := fixtures.create({"privileged": true})

test_allow_compliant_create if {
	d := authz.decision with input as fixtures.create_compliant
	d.allow
	count(d.violations) == 0
}

test_allow_read_call if {
	d := authz.decision with input as {"route": {"endpoint": "container.list", "write": false}, "user": {"name": ""}}
	d.allow
}

test_deny_collects_every_rule if {
	d := authz.decision with input as fixtures.create({"privileged": true, "read_only": false})
	not d.allow
	{v.id | some v in d.violations} == {"no_privileged", "read_only_rootfs"}
}

test_exempt_user_allowed_and_listed if {
	inp := object.union(_privileged, {"user": {"name": "ops", "authn_method": "TLS"}})
	d := authz.decision with input as inp with data.authz_config.exempt_users as ["ops"]
	d.allow
	[[v.id, v.exemption] | some v in d.exempted] == [["no_privileged", "exempt user"]]
}

test_anonymous_user_never_exempt if {
	d := authz.decision with input as _privileged with data.authz_config.exempt_users as [""]
	not d.allow
}

test_scoped_exemption_by_image_prefix if {
	ex := [{"users": ["ci"], "images": ["registry.example.com/ops/*"], "rules": ["no_privileged"], "reason": "TICKET-1"}]
	ok := object.union(fixtures.create({"privileged": true, "image": "registry.example.com/ops/agent"}), {"user": {"name": "ci"}})
	d := authz.decision with input as ok with data.authz_config.exemptions as ex
	d.allow
	[v.exemption | some v in d.exempted] == ["TICKET-1"]

	other := object.union(fixtures.create({"privileged": true, "image": "busybox"}), {"user": {"name": "ci"}})
	not authz.decision.allow with input as other with data.authz_config.exemptions as ex
}

test_exemption_limited_to_its_rules if {
	ex := [{"rules": ["read_only_rootfs"], "reason": "r"}]
	d := authz.decision with input as _privileged with data.authz_config.exemptions as ex
	not d.allow
}

test_expired_exemption_does_not_apply if {
	expired := [{"rules": ["*"], "reason": "old", "expires": "2000-01-01T00:00:00Z"}]
	not authz.decision.allow with input as _privileged with data.authz_config.exemptions as expired
	live := [{"rules": ["*"], "reason": "new", "expires": "2200-01-01T00:00:00Z"}]
	authz.decision.allow with input as _privileged with data.authz_config.exemptions as live
}

test_dryrun_allows_and_reports if {
	d := authz.decision with input as _privileged with data.authz_config.modes as {"no_privileged": "dryrun"}
	d.allow
	[v.id | some v in d.dryrun] == ["no_privileged"]
	count(d.violations) == 0
}

test_decision_defined_without_config if {
	authz.decision.allow with input as fixtures.create_compliant with data.authz_config as {}
}
