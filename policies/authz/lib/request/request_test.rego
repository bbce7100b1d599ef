package authz.lib.request_test

import data.authz.lib.request

test_container_create if {
	request.is_container_create with input as {"route": {"endpoint": "container.create"}, "container": {}}
}

test_service_create_is_a_container_create if {
	request.is_container_create with input as {"route": {"endpoint": "service.update"}, "container": {}}
	request.is_service with input as {"route": {"endpoint": "service.create"}}
}

test_not_create_without_view if {
	not request.is_container_create with input as {"route": {"endpoint": "container.create"}}
}

test_not_create_for_other_endpoints if {
	not request.is_container_create with input as {"route": {"endpoint": "container.list"}, "container": {}}
}

test_admin if {
	request.is_admin with input as {"user": {"name": "ops"}} with data.authz_config.admins as ["ops"]
	not request.is_admin with input as {"user": {"name": ""}} with data.authz_config.admins as [""]
	not request.is_admin with input as {"user": {"name": "bob"}} with data.authz_config.admins as ["ops"]
}

test_start_and_restart_judge_the_stored_container if {
	request.is_container_create with input as {"route": {"endpoint": "container.start"}, "container": {}}
	request.is_container_create with input as {"route": {"endpoint": "container.restart"}, "container": {}}
	not request.is_container_create with input as {"route": {"endpoint": "container.unpause"}, "container": {}}
}

test_admin_by_group if {
	inp := {"user": {"name": "bob", "groups": ["wheel", "ops"]}}
	request.is_admin with input as inp with data.authz_config.admins as {"groups": ["ops"]}
	request.is_admin with input as inp with data.authz_config.admins as {"users": ["bob"]}
	not request.is_admin with input as inp with data.authz_config.admins as {"users": ["ops"], "groups": ["ci"]}
	not request.is_admin with input as {"user": {"name": "", "groups": ["ops"]}} with data.authz_config.admins as {"groups": ["ops"]}
	not request.is_admin with input as {"user": {"name": "bob"}} with data.authz_config.admins as {"groups": ["ops"]}
}

test_caller_groups_default_empty if {
	request.caller_groups == [] with input as {"user": {"name": "bob"}}
	request.caller_groups == [] with input as {"user": {"name": "bob", "groups": null}}
	request.caller_groups == ["a"] with input as {"user": {"name": "bob", "groups": ["a"]}}
}
