package authz.rules.update.update_limits_test

import data.authz.rules.update.update_limits as rule

_zero := {
	"memory": 0, "memory_swap": 0, "nano_cpus": 0, "cpu_quota": 0, "cpu_period": 0,
	"pids_limit": null, "oom_kill_disable": null, "cgroup_parent": "",
}

# The hardened container's limits (--memory 128m --cpus 0.5 --pids-limit 100).
_hardened := object.union(_zero, {"memory": 134217728, "nano_cpus": 500000000, "pids_limit": 100})

# _update is an update of the hardened container; the plugin merges the
# update over its limits (zero: unchanged) into effective.
_update(r) := _update_of(_hardened, r)

_update_of(current, r) := {"route": {"endpoint": "container.update"}, "update": {
	"container": "web",
	"resources": object.union(_zero, r),
	"effective": object.union(current, {k: v | some k, v in r; v != 0}),
}}

# A container created with --cpu-quota 50000 (0.5 CPU at the 100ms period).
_quota_container := object.union(_zero, {"memory": 134217728, "cpu_quota": 50000, "pids_limit": 100})

test_deny_period_lifting_the_quota if {
	# 50000us every 1000us is 50 CPUs
	r := rule.deny with input as _update_of(_quota_container, {"cpu_period": 1000})
	{v.msg | some v in r} == {"after the update the CPU limit is 50, above the maximum 4"}
}

test_deny_quota_lifted_past_the_maximum if {
	r := rule.deny with input as _update_of(_quota_container, {"cpu_quota": 1000000})
	{v.msg | some v in r} == {"after the update the CPU limit is 10, above the maximum 4"}
}

test_allow_quota_and_period_within_the_maximum if {
	count(rule.deny) == 0 with input as _update_of(_quota_container, {"cpu_period": 50000})
	count(rule.deny) == 0 with input as _update_of(_quota_container, {"cpu_quota": 100000, "cpu_period": 50000})
}

test_deny_effective_limits_above_the_maximum if {
	# a container created (by an admin) above the maximums: an update that
	# leaves the limit as it is still answers for the limit it keeps
	big := object.union(_hardened, {"memory": 8589934592, "pids_limit": 100000})
	r := rule.deny with input as _update_of(big, {"nano_cpus": 1000000000})
	count(r) == 2
}

test_deny_cpu_limit_removed if {
	# a period alone on a container without any CPU limit
	r := rule.deny with input as _update_of(object.union(_zero, {"memory": 1}), {"cpu_period": 50000})
	{v.msg | some v in r} == {"after the update the container has no CPU limit"}
}

test_deny_unknown_effective_limits if {
	r := rule.deny with input as {"route": {"endpoint": "container.update"}, "update": {"container": "web", "resources": _zero}}
	{v.msg | some v in r} == {"the container's limits after the update are not known"}
}

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
