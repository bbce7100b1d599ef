package authz.rules.start.start_api_version_test

import data.authz.rules.start.start_api_version as rule

_start(v) := {"route": {"endpoint": "container.start", "id": "web"}, "request": {"api_version": v}}

test_allow_current_versions if {
	every v in ["", "1.24", "1.25", "1.41", "1.51", "2.0", "1.024"] {
		count(rule.deny) == 0 with input as _start(v)
	}
}

# Compared as numbers, not strings: "1.9" sorts after "1.24" as text.
test_deny_old_versions if {
	every v in ["1.23", "1.9", "1.0", "0.99", "1.12", "01.23"] {
		count(rule.deny) == 1 with input as _start(v)
	}
}

test_deny_versions_that_do_not_parse if {
	every v in ["1", "1.", ".24", "1..24", "1.24.1"] {
		count(rule.deny) == 1 with input as _start(v)
	}
}

test_other_endpoints_untouched if {
	count(rule.deny) == 0 with input as {"route": {"endpoint": "container.create"}, "request": {"api_version": "1.12"}}
}
