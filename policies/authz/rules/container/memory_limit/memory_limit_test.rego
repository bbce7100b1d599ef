package authz.rules.container.memory_limit_test

import data.authz.lib.fixtures
import data.authz.rules.container.memory_limit as rule

_mem(memory, swap) := fixtures.create({"resources": {"memory": memory, "memory_swap": swap}})

test_allow_limit if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
}

test_allow_exactly_max if {
	count(rule.deny) == 0 with input as _mem(4294967296, 0)
}

test_deny_over_max if {
	r := rule.deny with input as _mem(4294967297, 0)
	[v.msg | some v in r] == ["memory limit 4294967297 bytes is above the maximum 4294967296"]
}

test_deny_none if {
	r := rule.deny with input as _mem(0, 0)
	[v.msg | some v in r] == ["no memory limit is set"]
	count(rule.deny) == 1 with input as _mem(-1, 0)
}

test_allow_swap_limit if {
	count(rule.deny) == 0 with input as _mem(134217728, 268435456)
}

test_deny_unlimited_swap if {
	r := rule.deny with input as _mem(134217728, -1)
	[v.msg | some v in r] == ["swap is unlimited (--memory-swap -1)"]
}

test_deny_over_max_from_params if {
	count(rule.deny) == 1 with input as _mem(1025, 0) with data.authz_config.params as {"max_memory": 1024}
}

test_allow_max_from_params if {
	count(rule.deny) == 0 with input as _mem(1024, 0) with data.authz_config.params as {"max_memory": 1024}
}

test_deny_fix_names_the_maximum if {
	r := rule.deny with input as _mem(0, 0) with data.authz_config.params as {"max_memory": 536870912}
	[v.fix | some v in r] == ["add --memory 512m (at most 512m) and no --memory-swap -1"]
}
