package authz.lib.request_test

import data.authz.lib.request

test_container_create if {
	request.is_container_create with input as {"route": {"endpoint": "container.create"}, "container": {}}
}

test_not_create_without_view if {
	not request.is_container_create with input as {"route": {"endpoint": "container.create"}}
}

test_not_create_for_other_endpoints if {
	not request.is_container_create with input as {"route": {"endpoint": "container.list"}, "container": {}}
}
