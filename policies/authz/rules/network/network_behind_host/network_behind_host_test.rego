package authz.rules.network.network_behind_host_test

import data.authz.lib.fixtures
import data.authz.rules.network.network_behind_host as rule

_net(driver, options) := {"ref": "n", "id": "nid", "name": "n", "driver": driver, "config_only": false, "options": options}

_create(n) := {"route": {"endpoint": "network.create", "write": true}, "user": {"name": ""}, "network": n}

_connect(n) := {"route": {"endpoint": "network.connect", "write": true}, "user": {"name": ""}, "network": n}

_gw4 := "com.docker.network.bridge.gateway_mode_ipv4"

_gw6 := "com.docker.network.bridge.gateway_mode_ipv6"

test_allow_bridge_and_overlay if {
	count(rule.deny) == 0 with input as _create(_net("bridge", {}))
	count(rule.deny) == 0 with input as _create(_net("overlay", {"encrypted": ""}))
	count(rule.deny) == 0 with input as _create(_net("bridge", {_gw4: "nat", _gw6: "isolated"}))
	count(rule.deny) == 0 with input as _connect(_net("bridge", {"com.docker.network.bridge.name": "docker0"}))
}

test_deny_drivers_outside_the_list if {
	every d in ["macvlan", "ipvlan", "weave", ""] {
		count(rule.deny) == 1 with input as _create(_net(d, {"parent": "eth0"}))
		count(rule.deny) == 1 with input as _connect(_net(d, {}))
	}
}

test_allowed_drivers_is_a_param if {
	count(rule.deny) == 0 with input as _create(_net("macvlan", {})) with data.authz_config.params.allowed_network_drivers as ["macvlan"]
	count(rule.deny) == 1 with input as _create(_net("overlay", {})) with data.authz_config.params.allowed_network_drivers as ["bridge"]
}

test_deny_opening_bridge_options if {
	every opts in [
		{_gw4: "routed"}, {_gw4: "nat-unprotected"}, {_gw6: "routed"}, {_gw4: "Routed"},
		{"com.docker.network.bridge.trusted_host_interfaces": "eth0"},
	] {
		count(rule.deny) == 1 with input as _create(_net("bridge", opts))
		count(rule.deny) == 1 with input as _connect(_net("bridge", opts))
	}
}

test_deny_bridge_name_at_create_only if {
	r := rule.deny with input as _create(_net("bridge", {"com.docker.network.bridge.name": "br0"}))
	count(r) == 1
	count(rule.deny) == 0 with input as _connect(_net("bridge", {"com.docker.network.bridge.name": "br0"}))
}

test_config_only_judged_by_options_not_driver if {
	co := object.union(_net("bridge", {"parent": "eth0"}), {"config_only": true, "driver": "null"})
	count(rule.deny) == 0 with input as _create(co)
	count(rule.deny) == 1 with input as _create(object.union(co, {"options": {_gw4: "routed"}}))
}

test_admins_may_create if {
	req := object.union(_create(_net("macvlan", {})), {"user": {"name": "ops"}})
	count(rule.deny) == 0 with input as req with data.authz_config.admins as ["ops"]
	count(rule.deny) == 1 with input as req
}

test_deny_container_on_exposing_network if {
	lan := object.union(_net("macvlan", {"parent": "eth0"}), {"ref": "lannet", "name": "lan"})
	r := rule.deny with input as fixtures.create({"networks": [lan]})
	[v.msg | some v in r] == [`the container joins network "lannet" ("lan"): driver "macvlan" is not in allowed_network_drivers ["bridge", "overlay"]: its containers are not behind the host`]
	count(rule.deny) == 0 with input as fixtures.create({"networks": [_net("bridge", {})]})
	count(rule.deny) == 0 with input as fixtures.create({"networks": [_net("host", {}), _net("null", {})]})
}

test_deny_service_on_exposing_network if {
	req := object.union(fixtures.create({"networks": [_net("bridge", {_gw4: "routed"})]}), {"route": {"endpoint": "service.create", "write": true}})
	count(rule.deny) == 1 with input as req
}

test_deny_joining_a_lan_containers_namespace if {
	lan := {"ref": "lan", "id": "lanid", "name": "lan", "driver": "macvlan", "options": {"parent": "eth0"}}
	peer := object.union(fixtures.container_compliant, {"networks": [lan]})
	inp := fixtures.create({"namespaces": {"network": "container:web"}, "peers": [{"via": "network", "target": "web", "through": [], "container": peer}]})
	some v in rule.deny with input as inp
	contains(v.msg, `joins the network namespace of container "web", which is on network "lan"`)
}

test_allow_joining_a_bridge_containers_namespace if {
	app := {"ref": "app", "id": "appid", "name": "app", "driver": "bridge", "options": {}}
	peer := object.union(fixtures.container_compliant, {"networks": [app]})
	inp := fixtures.create({"namespaces": {"network": "container:web"}, "peers": [{"via": "network", "target": "web", "through": [], "container": peer}]})
	count(rule.deny) == 0 with input as inp
}
