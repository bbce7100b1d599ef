# METADATA
# title: container start needs API 1.24 or later
# description: |
#   Before API 1.24 the start handler decodes a HostConfig from the body and
#   applies it after the create was checked (B10). Engines without the
#   CVE-2024-41110 fix forward that body to plugins only when ContentLength
#   is positive and the raw URI does not end in /auth, while the handler
#   decodes it when ContentLength > 7 or is unknown: a chunked start reaches
#   the plugin bodiless. No client has sent API < 1.24 in years, so such
#   starts are refused outright. The version is compared numerically
#   (1.9 < 1.23 < 1.24); a version that is not X.Y is refused.
# custom:
#   levels: [privileged, baseline, restricted]
#   endpoints: [container.start]
#   psa: "none"
#   cis: "-"
#   severity: critical
#   fix: use a client with API 1.24 or later (docker start sends /v1.41/containers/<id>/start), and put the configuration in docker create
package authz.rules.start.start_api_version

import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "container.start"
	input.request.api_version != ""
	not _at_least_1_24(input.request.api_version)
	violation := result.violation(rego.metadata.chain(), sprintf("start of %s asks for API %s, older than 1.24 (which reads a HostConfig from the start body)", [
		input.route.id, input.request.api_version,
	]))
}

_at_least_1_24(v) if {
	regex.match(`^[0-9]{1,9}\.[0-9]{1,9}$`, v)
	parts := [to_number(p) | some p in split(v, ".")]
	_ge(parts, [1, 24])
}

_ge(a, b) if a[0] > b[0]

_ge(a, b) if {
	a[0] == b[0]
	a[1] >= b[1]
}
