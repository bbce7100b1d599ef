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
