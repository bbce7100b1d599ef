package authz.rules.request.request_unknown_write_route_test

import data.authz.rules.request.request_unknown_write_route as rule

_req(endpoint, method) := {
	"route": {"endpoint": endpoint, "write": method != "GET"},
	"request": {"method": method, "path": "/containers/x/frobnicate"},
}

test_allow_known_and_reads if {
	count(rule.deny) == 0 with input as _req("container.kill", "POST")
	count(rule.deny) == 0 with input as _req("", "GET")
}

test_deny_unknown_write if {
	count(rule.deny) == 1 with input as _req("", "POST")
	count(rule.deny) == 1 with input as _req("", "DELETE")
}
