package authz.rules.start.start_no_body_test

import data.authz.rules.start.start_no_body as rule

test_allow_plain_start if {
	count(rule.deny) == 0 with input as {"route": {"endpoint": "container.start", "id": "web"}, "body": null}
	count(rule.deny) == 0 with input as {"route": {"endpoint": "container.start", "id": "web"}, "body": {}}
}

test_deny_start_with_hostconfig if {
	count(rule.deny) == 1 with input as {"route": {"endpoint": "container.start", "id": "web"}, "body": {"Privileged": true}}
}
