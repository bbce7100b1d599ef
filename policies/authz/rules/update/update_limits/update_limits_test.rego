package authz.rules.update.update_limits_test

import data.authz.rules.update.update_limits as rule

_update(r) := {"route": {"endpoint": "container.update"}, "update": {"container": "web", "resources": object.union(
	{
		"memory": 0, "memory_swap": 0, "nano_cpus": 0, "cpu_quota": 0, "cpu_period": 0,
		"pids_limit": null, "oom_kill_disable": null, "cgroup_parent": "",
	},
	r,
)}}

test_allow_unchanged_and_within_limits if {
	count(rule.deny) == 0 with input as _update({})
	count(rule.deny) == 0 with input as _update({"memory": 268435456, "pids_limit": 200, "nano_cpus": 1000000000})
}

test_deny_unlimited if {
	count(rule.deny) == 1 with input as _update({"memory_swap": -1})
	count(rule.deny) == 1 with input as _update({"pids_limit": -1})
	count(rule.deny) == 1 with input as _update({"pids_limit": 0})
	count(rule.deny) == 1 with input as _update({"memory": -1})
	count(rule.deny) == 1 with input as _update({"cpu_quota": -1})
}

test_deny_above_maximum if {
	count(rule.deny) == 1 with input as _update({"memory": 8589934592})
	count(rule.deny) == 1 with input as _update({"pids_limit": 100000})
	count(rule.deny) == 1 with input as _update({"nano_cpus": 8000000000})
}
