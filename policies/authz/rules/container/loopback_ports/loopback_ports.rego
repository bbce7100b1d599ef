# METADATA
# title: Ports may be published on loopback only
# description: A port published on all interfaces is reachable from the network, past the host firewall.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "Host Ports"
#   cis: "5.13"
#   severity: high
#   fix_compose: 'publish on loopback only, e.g. ports: ["127.0.0.1:8080:80"]'
#   fix: publish on loopback only, e.g. -p 127.0.0.1:8080:80 (and no -P)
#   fix_service: >-
#     do not publish the port from a service (swarm publishes on every
#     interface); use an overlay network
package authz.rules.container.loopback_ports

import data.authz.lib.params
import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some p in input.container.ports
	not p.loopback
	not p.host_ip in params.allowed_publish_ips
	msg := sprintf("port %s is published on %s", [p.container_port, _where(p)])
	violation := result.violation(rego.metadata.chain(), msg)
}

deny contains violation if {
	request.is_container_create
	input.container.publish_all
	violation := result.violation(rego.metadata.chain(), "all exposed ports are published on all interfaces (-P)")
}

_where(p) := "all interfaces" if p.host_ip == ""

_where(p) := "all interfaces (0.0.0.0)" if p.host_ip == "0.0.0.0"

_where(p) := "all interfaces (::)" if p.host_ip == "::"

_where(p) := p.host_ip if not p.host_ip in {"", "0.0.0.0", "::"}
