package authz.rules.container.no_host_namespaces_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_host_namespaces as rule

_ns(kind, mode) := fixtures.create({"namespaces": {kind: mode}})

test_allow_private if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as _ns("network", "bridge")
	count(rule.deny) == 0 with input as _ns("ipc", "private")
}

test_deny_each_host_namespace if {
	every kind in ["network", "pid", "ipc", "uts", "userns", "cgroupns"] {
		count(rule.deny) == 1 with input as _ns(kind, "host")
	}
}

test_deny_host_any_case if {
	count(rule.deny) == 1 with input as _ns("pid", "HOST")
}

test_deny_joined_container if {
	r := rule.deny with input as _ns("network", "container:web")
	[v.msg | some v in r] == [`network namespace joins container "web", which cannot be verified`]
}
