package authz.rules.container.no_unconfined_profiles_test

import data.authz.lib.fixtures
import data.authz.rules.container.no_unconfined_profiles as rule

_sec(s) := fixtures.create({"security": s})

test_allow_defaults if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as _sec({"seccomp": "/etc/profile.json", "apparmor": "docker-default"})
}

test_deny_unconfined if {
	count(rule.deny) == 1 with input as _sec({"seccomp": "unconfined"})
	count(rule.deny) == 1 with input as _sec({"apparmor": "unconfined"})
	count(rule.deny) == 1 with input as _sec({"labels": ["disable"]})
}

test_deny_systempaths if {
	count(rule.deny) == 2 with input as fixtures.create({"masked_paths_set": true, "readonly_paths_set": true})
}

test_deny_invalid_option if {
	count(rule.deny) == 1 with input as _sec({"invalid": ["no-new-privileges=maybe"]})
}

test_deny_unconfined_any_case if {
	count(rule.deny) == 1 with input as _sec({"seccomp": "Unconfined"})
}

test_deny_messages if {
	r := rule.deny with input as _sec({"seccomp": "unconfined", "apparmor": "unconfined", "labels": ["disable"]})
	{v.msg | some v in r} == {"seccomp is unconfined", "AppArmor is unconfined", "SELinux labeling is disabled"}
	ri := rule.deny with input as _sec({"invalid": ["seccomp"]})
	[v.msg | some v in ri] == [`security option "seccomp" is not one the daemon accepts`]
}

test_allow_other_labels if {
	count(rule.deny) == 0 with input as _sec({"labels": ["level:s0:c100,c200"]})
}

# issue 11 item 13: custom confinement that confines nothing.
test_deny_inline_seccomp_that_allows_by_default if {
	every action in ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY", "", "scmp_act_errno"] {
		r := rule.deny with input as _sec({"seccomp": "<inline>", "seccomp_default_action": action})
		count(r) == 1
	}
}

test_allow_inline_seccomp_that_blocks_by_default if {
	every action in ["SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"] {
		count(rule.deny) == 0 with input as _sec({"seccomp": "<inline>", "seccomp_default_action": action})
	}
}

test_deny_unconfined_selinux_types if {
	every l in ["type:spc_t", "type:unconfined_t"] {
		r := rule.deny with input as _sec({"labels": [l]})
		[v.msg | some v in r] == [sprintf("SELinux type %s is unconfined", [trim_prefix(l, "type:")])]
	}
}

test_allow_confined_selinux_type if {
	count(rule.deny) == 0 with input as _sec({"labels": ["type:container_t", "level:s0:c1,c2"]})
}
