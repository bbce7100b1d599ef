package authz.rules.build.build_host_network_test

import data.authz.rules.build.build_host_network as rule

_build(q) := {"route": {"endpoint": "build"}, "request": {"query": q}}

test_allow_default_network if {
	count(rule.deny) == 0 with input as _build({})
	count(rule.deny) == 0 with input as _build({"networkmode": ["default"]})
}

test_deny_host_network if {
	count(rule.deny) == 1 with input as _build({"networkmode": ["host"]})
}
