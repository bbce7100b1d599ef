# METADATA
# title: Root filesystem must be read-only
# description: A writable root filesystem lets a compromised process persist tools and change binaries.
# custom:
#   levels: [restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "5.12"
#   severity: high
#   fix_compose: 'set read_only: true on the service (with tmpfs: [/tmp] for scratch space)'
#   fix: add --read-only (with --tmpfs /tmp for scratch space)
package authz.rules.container.read_only_rootfs

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	input.container.read_only != true
	violation := result.violation(rego.metadata.chain(), "root filesystem is writable")
}
