# METADATA
# title: Networks keep containers behind the host
# description: |
#   A container on a macvlan or ipvlan network, or on a bridge whose gateway
#   mode is routed or nat-unprotected or that trusts host interfaces, is
#   reachable from the LAN on every port without -p. Non-admins may create
#   only networks whose driver is in allowed_network_drivers and whose
#   options keep the NAT; containers, services and network connects may join
#   only such networks (resolved on the daemon by name, id or id prefix, with
#   a --config-from network's options taken from its config-only network).
# custom:
#   levels: [baseline, restricted]
#   endpoints: [network.create, network.connect, container.create, service.create, service.update, container.start, container.restart]
#   psa: "Host Ports"
#   cis: "5.13"
#   severity: high
#   fix_compose: 'join only networks: whose driver: is bridge without gateway_mode_ipv4/ipv6, trusted_host_interfaces or bridge.name driver_opts, and publish ports: ["127.0.0.1:HOST:CTR"] (an admin creates any other network, used as external: true)'
#   fix: >-
#     use a bridge network without gateway_mode_ipv4/ipv6, trusted_host_interfaces
#     or bridge.name options, and publish ports with -p 127.0.0.1:HOST:CTR
#     (an admin creates any other network)
package authz.rules.network.network_behind_host

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "network.create"
	not request.is_admin
	some why in _create_problems(input.network)
	violation := result.violation(rego.metadata.chain(), sprintf("network create %q: %s", [input.network.name, why]))
}

deny contains violation if {
	input.route.endpoint == "network.connect"
	some why in _problems(input.network)
	violation := result.violation(rego.metadata.chain(), sprintf("network connect to %s: %s", [_named(input.network), why]))
}

deny contains violation if {
	request.is_container_create
	some n in object.get(input.container, "networks", [])
	some why in _problems(n)
	violation := result.violation(rego.metadata.chain(), sprintf("the container joins network %s: %s", [_named(n), why]))
}

# A container that joins another's network namespace (--network
# container:X) is on X's networks.
deny contains violation if {
	request.is_container_create
	some p in object.get(input.container, "peers", [])
	p.via == "network"
	some n in object.get(p.container, "networks", [])
	some why in _problems(n)
	violation := result.violation(rego.metadata.chain(), sprintf("the container joins the network namespace of container %q, which is on network %s: %s", [p.target, _named(n), why]))
}

_named(n) := sprintf("%q", [n.name]) if n.ref == n.name

_named(n) := sprintf("%q (%q)", [n.ref, n.name]) if n.ref != n.name

# The host network (no_host_namespaces judges it) and the none network
# (driver null: no interface at all) are no LAN exposure of their own.
_not_judged_drivers := {"host", "null"}

_gateway_mode_keys := {"com.docker.network.bridge.gateway_mode_ipv4", "com.docker.network.bridge.gateway_mode_ipv6"}

# The gateway modes that keep the NAT and its filtering: "nat" (the
# default) and "isolated" (no gateway at all). "routed" and
# "nat-unprotected" let the LAN reach every port; anything else is refused
# rather than guessed at.
_safe_gateway_modes := {"nat", "isolated"}

_trusted_key := "com.docker.network.bridge.trusted_host_interfaces"

_problems(n) := (_driver(n) | _gateway(n)) | _trusted(n)

_driver(n) := {why |
	not n.config_only
	not n.driver in _not_judged_drivers
	not n.driver in params.allowed_network_drivers
	why := sprintf("driver %q is not in allowed_network_drivers %v: its containers are not behind the host", [n.driver, params.allowed_network_drivers])
}

_gateway(n) := {why |
	some k, val in object.get(n, "options", {})
	k in _gateway_mode_keys
	not val in _safe_gateway_modes
	why := sprintf("option %s=%s lets the LAN reach every port of its containers", [k, val])
}

_trusted(n) := {why |
	val := object.get(object.get(n, "options", {}), _trusted_key, "")
	val != ""
	why := sprintf("option %s=%s lets those interfaces reach every port of its containers", [_trusted_key, val])
}

# At create only: com.docker.network.bridge.name may name an existing host
# bridge (a LAN bridge with the uplink enslaved), which the driver then
# uses as is, putting containers on the LAN. Existing networks carry the
# option too (the default bridge has docker0), so joins do not judge it.
_create_problems(n) := _problems(n) | _bridge_name(n)

_bridge_name(n) := {why |
	val := object.get(object.get(n, "options", {}), "com.docker.network.bridge.name", "")
	val != ""
	why := sprintf("option com.docker.network.bridge.name=%s may name an existing host bridge, which puts containers on it", [val])
}
