# METADATA
# title: Security profiles may not be disabled
# description: |
#   seccomp and AppArmor profiles, SELinux labels and the masked /proc paths
#   are what stop a root process from reaching the host.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "AppArmor, SELinux, Seccomp, /proc Mount Type"
#   cis: "5.1, 5.2, 5.21"
#   severity: critical
#   fix_compose: 'remove seccomp:unconfined / apparmor:unconfined / label:disable / label:type:spc_t / systempaths=unconfined from security_opt: (a custom seccomp profile needs a blocking defaultAction such as SCMP_ACT_ERRNO)'
#   fix: remove --security-opt seccomp=unconfined / apparmor=unconfined / label=disable / label=type:spc_t / systempaths=unconfined (a custom seccomp profile needs a blocking defaultAction such as SCMP_ACT_ERRNO)
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

# An inline profile (the CLI sends the file's JSON) whose default action
# lets syscalls through confines nothing it does not list (issue 11 item 13).
_problems contains sprintf("the seccomp profile allows every syscall it does not list (defaultAction %q)", [action]) if {
	c := input.container
	c.security.seccomp == "<inline>"
	action := object.get(c.security, "seccomp_default_action", "")
	not action in _blocking_seccomp_actions
}

_blocking_seccomp_actions := {
	"SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
}

# SELinux types that are not confined: label=type:spc_t is how a
# privileged container runs.
_problems contains sprintf("SELinux type %s is unconfined", [typ]) if {
	c := input.container
	some l in c.security.labels
	startswith(l, "type:")
	typ := trim_prefix(l, "type:")
	typ in _unconfined_selinux_types
}

_unconfined_selinux_types := {"spc_t", "unconfined_t", "unconfined_service_t", "kernel_t", "initrc_t", "container_runtime_t"}

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
