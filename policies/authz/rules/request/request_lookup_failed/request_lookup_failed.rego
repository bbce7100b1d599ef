# METADATA
# title: Facts the daemon did not give are not assumed
# description: |
#   A decision needs facts the request does not carry (an image's user, a
#   joined container, a named volume, a network) and the plugin reads them
#   from the daemon. When a lookup fails, the fact is unknown: the request is
#   evaluated anyway, so every other rule still speaks, and this guard denies
#   it, naming each fact. The plugin reports it as its own failure (the docker
#   CLI prints "plugin dockward failed"), never as an allow. A request guard:
#   no exemption or mode waives it.
# custom:
#   levels: [privileged, baseline, restricted]
#   psa: "none"
#   cis: "-"
#   severity: high
#   fix: retry; if it persists, check that dockward reaches the daemon (docker_host, lookup_timeout in /etc/dockward/config.yaml) and read dockward's log
package authz.rules.request.request_lookup_failed

import data.authz.lib.result

deny contains violation if {
	some u in input.unknown
	violation := result.violation(rego.metadata.chain(), sprintf("%s could not be looked up on the daemon: %s", [u.fact, u.reason]))
}
