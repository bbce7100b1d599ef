# METADATA
# title: Builds may not use the host network
# description: docker build --network host runs every RUN step in the host's network namespace (B16).
# custom:
#   levels: [baseline, restricted]
#   endpoints: [build]
#   psa: "Host Namespaces"
#   cis: "5.9"
#   severity: high
#   fix: remove --network host from docker build
package authz.rules.build.build_host_network

import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "build"
	some mode in object.get(input.request.query, "networkmode", [])
	lower(mode) == "host"
	violation := result.violation(rego.metadata.chain(), "build runs with the host network")
}
