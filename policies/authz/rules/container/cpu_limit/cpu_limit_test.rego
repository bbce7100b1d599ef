package authz.rules.container.cpu_limit_test

import data.authz.lib.fixtures
import data.authz.rules.container.cpu_limit as rule

_cpu(nano, quota, period) := fixtures.create({"resources": {
	"nano_cpus": nano,
	"cpu_quota": quota,
	"cpu_period": period,
}})

test_allow_cpus if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_allow_exactly_max if {
	count(rule.deny) == 0 with input as _cpu(4000000000, 0, 0)
	count(rule.deny) == 0 with input as _cpu(0, 400000, 0)
	count(rule.deny) == 0 with input as _cpu(0, 200000, 50000)
}

test_allow_quota_form if {
	count(rule.deny) == 0 with input as _cpu(0, 50000, 0)
}

test_deny_none if {
	r := rule.deny with input as _cpu(0, 0, 0)
	[v.msg | some v in r] == ["no CPU limit is set"]
}

test_deny_period_alone_is_no_limit if {
	count(rule.deny) == 1 with input as _cpu(0, 0, 100000)
	count(rule.deny) == 1 with input as _cpu(0, -1, 0)
}

test_deny_over_max if {
	r := rule.deny with input as _cpu(4000000001, 0, 0)
	[v.msg | some v in r] == ["CPU limit 4.000000001 is above the maximum 4"]
}

test_deny_over_max_from_params if {
	count(rule.deny) == 1 with input as fixtures.create_compliant with data.authz_config.params as {"max_cpus": 0.25}
}

test_deny_quota_over_max_with_period if {
	# 500ms of CPU every 100ms period is 5 CPUs; with a 200ms period it is 2.5.
	count(rule.deny) == 1 with input as _cpu(0, 500000, 0)
	count(rule.deny) == 0 with input as _cpu(0, 500000, 200000)
}
