# METADATA
# title: Security profiles may not be disabled
# description: |
#   seccomp and AppArmor profiles, SELinux labels and the masked /proc paths
#   are what stop a root process from reaching the host (CIS 5.2, 5.3, 5.22).
# custom:
#   severity: critical
#   fix: remove --security-opt seccomp=unconfined / apparmor=unconfined / label=disable / systempaths=unconfined
package authz.rules.container.no_unconfined_profiles

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

_problems contains "seccomp is unconfined" if {
	c := input.container
	lower(c.security.seccomp) == "unconfined"
}

_problems contains "AppArmor is unconfined" if {
	c := input.container
	lower(c.security.apparmor) == "unconfined"
}

_problems contains "SELinux labeling is disabled" if {
	c := input.container
	"disable" in c.security.labels
}

_problems contains "masked paths are overridden (systempaths=unconfined)" if {
	c := input.container
	c.masked_paths_set
}

_problems contains "read-only paths are overridden (systempaths=unconfined)" if {
	c := input.container
	c.readonly_paths_set
}

_problems contains sprintf("security option %q is not one the daemon accepts", [opt]) if {
	c := input.container
	some opt in c.security.invalid
}
