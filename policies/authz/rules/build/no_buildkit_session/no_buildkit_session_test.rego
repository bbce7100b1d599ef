package authz.rules.build.no_buildkit_session_test

import data.authz.rules.build.no_buildkit_session as rule

test_allow_classic_build if {
	count(rule.deny) == 0 with input as {"route": {"endpoint": "build"}, "request": {"path": "/build"}}
}

test_deny_session_and_grpc if {
	count(rule.deny) == 1 with input as {"route": {"endpoint": "session"}, "request": {"path": "/session"}}
	count(rule.deny) == 1 with input as {"route": {"endpoint": "grpc"}, "request": {"path": "/grpc"}}
}
