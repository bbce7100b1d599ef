package authz.rules.container.no_annotations_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_annotations as rule

test_allow_no_annotations if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as fixtures.create({"annotations": {}})
}

test_deny_runtime_annotations if {
	r := rule.deny with input as fixtures.create({"annotations": {"org.systemd.property.DeviceAllow": "'/dev/sda rwm'", "run.oci.keep_original_groups": "1"}})
	{v.msg | some v in r} == {
		`annotation "org.systemd.property.DeviceAllow" is not in the allowed annotations`,
		`annotation "run.oci.keep_original_groups" is not in the allowed annotations`,
	}
}

test_allow_allowlisted_annotations if {
	inp := fixtures.create({"annotations": {"com.example.team": "a", "com.example.owner/x": "b"}})
	count(rule.deny) == 0 with input as inp with data.authz_config.params as {"allowed_annotations": ["com.example.team", "com.example.owner/*"]}
}

test_deny_outside_prefix if {
	inp := fixtures.create({"annotations": {"com.example.other": "a"}})
	count(rule.deny) == 1 with input as inp with data.authz_config.params as {"allowed_annotations": ["com.example.owner/*"]}
}
