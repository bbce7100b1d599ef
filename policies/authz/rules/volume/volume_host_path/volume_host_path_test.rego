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

_vol_paths(hps) := {"route": {"endpoint": "volume.create"}, "volume": {
	"name": "v", "driver": "local", "options": {},
	"host_path": hps[0].host_path, "resolved": hps[0].resolved, "host_paths": hps,
}}

# issue 11 item 10: every host path a volume reaches counts.
test_deny_overlay_lowerdir if {
	inp := _vol_paths([{"host_path": "/srv/v", "resolved": "/srv/v"}, {"host_path": "/etc", "resolved": "/etc"}])
	r := rule.deny with input as inp with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
	[v.msg | some v in r] == [`volume "v" binds host path /etc is not under an allowed host path [/srv]`]
}

test_deny_block_device if {
	r := rule.deny with input as _vol_paths([{"host_path": "/dev/sda1", "resolved": "/dev/sda1"}])
	count(r) == 1
}

test_deny_relative_device if {
	r := rule.deny with input as _vol_paths([{"host_path": "etc", "resolved": ""}])
	[v.msg | some v in r] == [`volume "v" binds host path etc cannot be resolved`]
}

test_allow_overlay_under_allowed_paths if {
	inp := _vol_paths([{"host_path": "/srv/a", "resolved": "/srv/a"}, {"host_path": "/srv/b", "resolved": "/srv/b"}])
	count(rule.deny) == 0 with input as inp with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
}
