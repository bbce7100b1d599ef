package authz.rules.volume.volume_host_path_test

import data.authz.rules.volume.volume_host_path as rule

_vol(host, resolved) := {"route": {"endpoint": "volume.create"}, "volume": {"name": "v", "driver": "local", "options": {}, "host_path": host, "resolved": resolved}}

test_allow_plain_volume if {
	count(rule.deny) == 0 with input as _vol("", "")
}

test_deny_bound_volume if {
	r := rule.deny with input as _vol("/etc", "/etc")
	[v.msg | some v in r] == [`volume "v" binds host path /etc is not under an allowed host path []`]
}

test_allow_bound_volume_under_allowed_path if {
	count(rule.deny) == 0 with input as _vol("/srv/v", "/srv/v") with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
}
