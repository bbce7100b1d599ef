package authz.rules.service.service_no_plugin_test

import data.authz.rules.service.service_no_plugin as rule

_svc(plugin) := {"route": {"endpoint": "service.create"}, "service": {"name": "s", "plugin": plugin}, "user": {"name": ""}}

test_allow_container_service if {
	count(rule.deny) == 0 with input as _svc(false)
}

test_deny_plugin_service if {
	count(rule.deny) == 1 with input as _svc(true)
}
