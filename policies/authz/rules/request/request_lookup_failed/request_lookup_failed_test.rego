package authz.rules.request.request_lookup_failed_test

import data.authz.lib.fixtures
import data.authz.rules.request.request_lookup_failed as rule

test_failed_lookup_denies if {
	inp := object.union(fixtures.create_compliant, {"unknown": [{"fact": "the user of image busybox", "reason": "connection refused"}]})
	some v in rule.deny with input as inp
	v.id == "request_lookup_failed"
	contains(v.msg, "the user of image busybox")
	contains(v.msg, "connection refused")
}

test_each_fact_is_named if {
	inp := object.union(fixtures.create_compliant, {"unknown": [
		{"fact": "container web", "reason": "timeout"},
		{"fact": "volume data", "reason": "timeout"},
	]})
	count(rule.deny) == 2 with input as inp
}

test_nothing_unknown_passes if {
	count(rule.deny) == 0 with input as object.union(fixtures.create_compliant, {"unknown": []})
}

test_exemptions_do_not_waive_it if {
	inp := object.union(fixtures.create_compliant, {
		"user": {"name": "ops-admin", "authn_method": "TLS"},
		"unknown": [{"fact": "the user of image busybox", "reason": "timeout"}],
	})
	d := data.authz.decision with input as inp with data.authz_config.exempt_users as ["ops-admin"]
	not d.allow
	some v in d.violations
	v.id == "request_lookup_failed"
}
