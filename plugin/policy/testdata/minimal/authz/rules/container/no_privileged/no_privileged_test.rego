package authz.rules.container.no_privileged_test

import data.authz.rules.container.no_privileged as rule

test_deny_privileged if {
	count(rule.deny) == 1 with input as {"route": {"endpoint": "container.create"}, "container": {"privileged": true}}
}

test_allow_unprivileged if {
	count(rule.deny) == 0 with input as {"route": {"endpoint": "container.create"}, "container": {"privileged": false}}
}
