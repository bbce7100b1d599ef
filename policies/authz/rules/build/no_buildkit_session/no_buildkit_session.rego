# METADATA
# title: BuildKit sessions are not inspected
# description: |
#   BuildKit builds talk gRPC over POST /session and /grpc, which authorization
#   plugins never see the contents of: a build can use the host network or
#   privileged steps there unchecked (B16). Shipped in dryrun mode (audited,
#   not enforced) because denying it breaks docker build with BuildKit.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [session, grpc]
#   psa: "none"
#   cis: "-"
#   severity: medium
#   fix: use the classic builder (DOCKER_BUILDKIT=0 docker build ...), or ask an admin
package authz.rules.build.no_buildkit_session

import data.authz.lib.result

deny contains violation if {
	input.route.endpoint in {"session", "grpc"}
	violation := result.violation(rego.metadata.chain(), sprintf("%s opens a BuildKit session the plugin cannot inspect", [input.request.path]))
}
