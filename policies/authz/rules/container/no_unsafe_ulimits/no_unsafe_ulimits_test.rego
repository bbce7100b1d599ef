package authz.rules.container.no_unsafe_ulimits_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_unsafe_ulimits as rule

_ul(name, soft, hard) := fixtures.create({"ulimits": [{"name": name, "soft": soft, "hard": hard}]})

test_allow_no_ulimits if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_allow_nofile_within_the_maximum if {
	count(rule.deny) == 0 with input as _ul("nofile", 1024, 4096)
}

test_deny_unsafe_names if {
	every name in ["memlock", "rtprio", "nice", "rttime"] {
		r := rule.deny with input as _ul(name, -1, -1)
		[v.msg | some v in r] == [sprintf("ulimit %s may not be set", [name])]
	}
}

test_deny_above_the_maximum if {
	r := rule.deny with input as _ul("nofile", 1024, 99999999)
	[v.msg | some v in r] == ["ulimit nofile=1024:99999999 is above the maximum 1048576"]
	count(rule.deny) == 1 with input as _ul("nofile", -1, -1)
}

test_allow_an_admin_allowlist if {
	inp := _ul("memlock", -1, -1)
	count(rule.deny) == 0 with input as inp with data.authz_config.params as {"allowed_ulimits": {"memlock": -1}}
}
