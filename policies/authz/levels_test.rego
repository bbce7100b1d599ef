package authz_levels_test

# Levels (data levels, each rule's custom.levels) and principals by group
# (admins, exempt_users, exemptions), as main.rego applies them.

import data.authz
import data.authz.lib.fixtures

# A plain docker run: restricted denies it (writable rootfs, capabilities,
# root, no limits), baseline allows it.
_plain := fixtures.create({"read_only": false})

_privileged := fixtures.create({"privileged": true})

_as(inp, name, groups) := object.union(inp, {"user": {"name": name, "authn_method": "TLS", "groups": groups}})

_levels := {"default": "restricted", "groups": {"ci": "baseline", "ops": "privileged"}, "users": {"carol": "restricted"}}

_unknown_write := {
	"user": {"name": "dave", "authn_method": "TLS", "groups": ["ops"]},
	"request": {"method": "POST", "path": "/frobnicate", "api_version": "", "query": {}},
	"route": {"endpoint": "", "id": "", "write": true},
	"body": null,
}

test_deny_default_level_is_restricted if {
	d := authz.decision with input as _plain
	not d.allow
	d.level == "restricted"
	{v.id | some v in d.violations} == {"read_only_rootfs"}
}

test_deny_default_level_without_levels_data if {
	d := authz.decision with input as _plain with data.authz_config as {}
	d.level == "restricted"
	not d.allow
}

test_allow_group_baseline_skips_restricted_rules if {
	d := authz.decision with input as _as(_plain, "bob", ["users", "ci"]) with data.authz_config.levels as _levels
	d.allow
	d.level == "baseline"
	count(d.violations) == 0
	count(d.dryrun) == 0
	count(d.exempted) == 0
}

test_deny_baseline_still_enforces_baseline_rules if {
	d := authz.decision with input as _as(_privileged, "bob", ["ci"]) with data.authz_config.levels as _levels
	not d.allow
	d.level == "baseline"
	{v.id | some v in d.violations} == {"no_privileged"}
}

test_deny_user_entry_wins_over_groups if {
	d := authz.decision with input as _as(_plain, "carol", ["ci"]) with data.authz_config.levels as _levels
	d.level == "restricted"
	not d.allow
}

test_allow_user_entry_can_loosen if {
	lv := object.union(_levels, {"users": {"erin": "baseline"}})
	d := authz.decision with input as _as(_plain, "erin", ["devs"]) with data.authz_config.levels as lv
	d.level == "baseline"
	d.allow
}

test_deny_strictest_group_wins if {
	lv := {"default": "baseline", "groups": {"ci": "baseline", "devs": "restricted", "ops": "privileged"}}
	d := authz.decision with input as _as(_plain, "bob", ["ops", "ci", "devs"]) with data.authz_config.levels as lv
	d.level == "restricted"
	not d.allow
	d2 := authz.decision with input as _as(_privileged, "bob", ["ops", "ci"]) with data.authz_config.levels as lv
	d2.level == "baseline"
	not d2.allow
}

test_allow_privileged_level_skips_baseline_rules if {
	d := authz.decision with input as _as(_privileged, "dave", ["ops"]) with data.authz_config.levels as _levels
	d.level == "privileged"
	d.allow
}

test_deny_privileged_level_keeps_request_guards if {
	d := authz.decision with input as _unknown_write with data.authz_config.levels as _levels
	d.level == "privileged"
	not d.allow
	[v.id | some v in d.violations] == ["request_unknown_write_route"]
}

test_deny_privileged_level_keeps_admin_doors if {
	inp := {
		"user": {"name": "dave", "authn_method": "TLS", "groups": ["ops"]},
		"request": {"method": "POST", "path": "/plugins/pull", "api_version": "1.41", "query": {}},
		"route": {"endpoint": "plugin.pull", "id": "", "write": true},
		"body": null,
	}
	d := authz.decision with input as inp with data.authz_config.levels as _levels
	d.level == "privileged"
	[v.id | some v in d.violations] == ["plugin_admin_only"]
	authz.decision.allow with input as inp with data.authz_config.levels as _levels with data.authz_config.admins as {"groups": ["ops"]}
}

test_deny_anonymous_gets_the_default_level if {
	# The unix socket without the broker: no name, no groups, the default.
	lv := {"default": "restricted", "groups": {"": "baseline"}, "users": {"": "baseline"}}
	d := authz.decision with input as _plain with data.authz_config.levels as lv
	d.level == "restricted"
	not d.allow
}

test_deny_unknown_groups_get_the_default if {
	d := authz.decision with input as _as(_plain, "remote", []) with data.authz_config.levels as _levels
	d.level == "restricted"
	not d.allow
}

test_allow_default_level_baseline if {
	d := authz.decision with input as _plain with data.authz_config.levels as {"default": "baseline"}
	d.level == "baseline"
	d.allow
}

test_deny_dryrun_outside_level_is_not_reported if {
	d := authz.decision with input as _as(_plain, "bob", ["ci"])
		with data.authz_config.levels as _levels
		with data.authz_config.modes as {"read_only_rootfs": "dryrun"}
	d.allow
	count(d.dryrun) == 0
}

# Principals by group.

test_allow_exempt_users_by_group if {
	d := authz.decision with input as _as(_privileged, "bob", ["ops"]) with data.authz_config.exempt_users as {"groups": ["ops"]}
	d.allow
	[v.exemption | some v in d.exempted] == ["exempt user"]
}

test_allow_exempt_users_object_by_name if {
	d := authz.decision with input as _as(_privileged, "bob", []) with data.authz_config.exempt_users as {"users": ["bob"]}
	d.allow
}

test_deny_exempt_users_other_group if {
	d := authz.decision with input as _as(_privileged, "bob", ["devs"]) with data.authz_config.exempt_users as {"users": ["ops"], "groups": ["ops"]}
	not d.allow
}

test_deny_exempt_group_needs_a_name if {
	inp := object.union(_privileged, {"user": {"name": "", "authn_method": "", "groups": ["ops"]}})
	not authz.decision.allow with input as inp with data.authz_config.exempt_users as {"groups": ["ops"]}
}

test_allow_exemption_by_group if {
	ex := [{"groups": ["ci"], "rules": ["no_privileged"], "reason": "TICKET-2"}]
	d := authz.decision with input as _as(_privileged, "bob", ["ci"]) with data.authz_config.exemptions as ex
	d.allow
	[v.exemption | some v in d.exempted] == ["TICKET-2"]
}

test_deny_exemption_by_group_other_group if {
	ex := [{"groups": ["ci"], "rules": ["no_privileged"], "reason": "TICKET-2"}]
	not authz.decision.allow with input as _as(_privileged, "bob", ["devs"]) with data.authz_config.exemptions as ex

	# groups only: a user without groups, or anonymous, is not in it.
	not authz.decision.allow with input as _as(_privileged, "bob", []) with data.authz_config.exemptions as ex
	not authz.decision.allow with input as _privileged with data.authz_config.exemptions as ex
}

test_allow_exemption_users_or_groups if {
	ex := [{"users": ["alice"], "groups": ["ci"], "rules": ["*"], "reason": "either"}]
	authz.decision.allow with input as _as(_privileged, "alice", []) with data.authz_config.exemptions as ex
	authz.decision.allow with input as _as(_privileged, "bob", ["ci"]) with data.authz_config.exemptions as ex
	not authz.decision.allow with input as _as(_privileged, "bob", ["devs"]) with data.authz_config.exemptions as ex
}

test_allow_exemption_group_pattern if {
	ex := [{"groups": ["ci-*"], "rules": ["*"], "reason": "runners"}]
	authz.decision.allow with input as _as(_privileged, "bob", ["ci-runners"]) with data.authz_config.exemptions as ex
}

test_deny_exemption_by_group_expired if {
	ex := [{"groups": ["ci"], "rules": ["*"], "reason": "old", "expires": "2000-01-01T00:00:00Z"}]
	not authz.decision.allow with input as _as(_privileged, "bob", ["ci"]) with data.authz_config.exemptions as ex
}

test_allow_exemption_for_everyone_without_users_or_groups if {
	ex := [{"rules": ["no_privileged"], "reason": "all"}]
	authz.decision.allow with input as _privileged with data.authz_config.exemptions as ex
}

test_deny_exemption_with_empty_groups_is_for_nobody if {
	# "groups": [] names no one; it does not fall back to everyone.
	ex := [{"groups": [], "rules": ["*"], "reason": "none"}]
	not authz.decision.allow with input as _as(_privileged, "bob", ["ci"]) with data.authz_config.exemptions as ex
}

test_deny_request_guard_not_exempted_by_group if {
	not authz.decision.allow with input as _unknown_write with data.authz_config.exempt_users as {"groups": ["ops"]}
}

test_deny_groups_null_is_no_group if {
	inp := object.union(_privileged, {"user": {"name": "bob", "authn_method": "TLS", "groups": null}})
	not authz.decision.allow with input as inp with data.authz_config.exempt_users as {"groups": ["ops"]}
}
