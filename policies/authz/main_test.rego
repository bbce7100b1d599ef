package authz_test

import data.authz
import data.authz.lib.fixtures

_privileged := fixtures.create({"privileged": true})

_as_user(inp, name) := object.union(inp, {"user": {"name": name, "authn_method": "TLS"}})

test_allow_compliant_create if {
	d := authz.decision with input as fixtures.create_compliant
	d == {"allow": true, "violations": set(), "dryrun": set(), "exempted": set(), "level": "restricted"}
}

test_allow_read_call if {
	# GET /containers/json has no container view: no rule fires, the decision is still defined.
	d := authz.decision with input as fixtures.list_containers
	d == {"allow": true, "violations": set(), "dryrun": set(), "exempted": set(), "level": "restricted"}
}

test_allow_minimal_input if {
	d := authz.decision with input as {"route": {"endpoint": "container.list", "write": false}, "user": {"name": ""}}
	d.allow
}

test_deny_collects_every_rule if {
	d := authz.decision with input as fixtures.create({"privileged": true, "read_only": false})
	not d.allow
	{v.id | some v in d.violations} == {"no_privileged", "read_only_rootfs"}
}

test_deny_violation_carries_metadata if {
	d := authz.decision with input as fixtures.create({"read_only": false})
	d.violations == {{
		"id": "read_only_rootfs", "title": "Root filesystem must be read-only", "msg": "root filesystem is writable",
		"fix": "add --read-only (with --tmpfs /tmp for scratch space)", "severity": "high",
	}}
}

test_allow_exempt_user_and_listed if {
	d := authz.decision with input as _as_user(_privileged, "ops") with data.authz_config.exempt_users as ["ops"]
	d.allow
	[[v.id, v.exemption] | some v in d.exempted] == [["no_privileged", "exempt user"]]
	count(d.violations) == 0
}

test_deny_anonymous_user_never_exempt if {
	d := authz.decision with input as _privileged with data.authz_config.exempt_users as [""]
	not d.allow
}

test_allow_scoped_exemption_by_image_prefix if {
	ex := [{
		"users": ["ci"], "images": ["registry.example.com/ops/*"],
		"rules": ["no_privileged"], "reason": "TICKET-1",
	}]
	ok := _as_user(fixtures.create({"privileged": true, "image": "registry.example.com/ops/agent"}), "ci")
	d := authz.decision with input as ok with data.authz_config.exemptions as ex
	d.allow
	[v.exemption | some v in d.exempted] == ["TICKET-1"]
}

test_deny_scoped_exemption_other_image_or_user if {
	ex := [{
		"users": ["ci"], "images": ["registry.example.com/ops/*"],
		"rules": ["no_privileged"], "reason": "TICKET-1",
	}]
	other_image := _as_user(fixtures.create({"privileged": true, "image": "registry.example.com/opsx/agent"}), "ci")
	not authz.decision.allow with input as other_image with data.authz_config.exemptions as ex
	other_user := _as_user(fixtures.create({"privileged": true, "image": "registry.example.com/ops/agent"}), "dev")
	not authz.decision.allow with input as other_user with data.authz_config.exemptions as ex
}

test_deny_exemption_limited_to_its_rules if {
	ex := [{"rules": ["read_only_rootfs"], "reason": "r"}]
	d := authz.decision with input as _privileged with data.authz_config.exemptions as ex
	not d.allow
	count(d.exempted) == 0
}

test_deny_expired_exemption_does_not_apply if {
	expired := [{"rules": ["*"], "reason": "old", "expires": "2000-01-01T00:00:00Z"}]
	not authz.decision.allow with input as _privileged with data.authz_config.exemptions as expired
}

test_allow_exemption_before_it_expires if {
	live := [{"rules": ["*"], "reason": "new", "expires": "2200-01-01T00:00:00Z"}]
	authz.decision.allow with input as _privileged with data.authz_config.exemptions as live
	none := [{"rules": ["*"], "reason": "no expiry", "expires": ""}]
	authz.decision.allow with input as _privileged with data.authz_config.exemptions as none
}

test_allow_dryrun_and_report if {
	d := authz.decision with input as _privileged with data.authz_config.modes as {"no_privileged": "dryrun"}
	d.allow
	[v.id | some v in d.dryrun] == ["no_privileged"]
	count(d.violations) == 0
}

test_deny_enforce_mode_is_the_default if {
	d := authz.decision with input as _privileged with data.authz_config.modes as {"no_privileged": "enforce"}
	not d.allow
	count(d.dryrun) == 0
}

test_allow_exempted_takes_priority_over_dryrun if {
	d := authz.decision with input as _as_user(_privileged, "ops")
		with data.authz_config.exempt_users as ["ops"]
		with data.authz_config.modes as {"no_privileged": "dryrun"}
	d.allow
	count(d.dryrun) == 0
	[v.id | some v in d.exempted] == ["no_privileged"]
}

test_deny_request_guard_never_exempted if {
	inp := {
		"user": {"name": "ops", "authn_method": "TLS"},
		"request": {"method": "POST", "path": "/frobnicate", "api_version": "", "query": {}},
		"route": {"endpoint": "", "id": "", "write": true},
		"body": null,
	}
	d := authz.decision with input as inp
		with data.authz_config.exempt_users as ["ops"]
		with data.authz_config.exemptions as [{"rules": ["*"], "reason": "everything"}]
	not d.allow
	[v.id | some v in d.violations] == ["request_unknown_write_route"]
	count(d.exempted) == 0
}

test_deny_request_guard_never_dryrun if {
	inp := {
		"user": {"name": "", "authn_method": ""},
		"request": {"method": "POST", "path": "/frobnicate", "api_version": "", "query": {}},
		"route": {"endpoint": "", "id": "", "write": true},
		"body": null,
	}
	d := authz.decision with input as inp
		with data.authz_config.modes as {"request_unknown_write_route": "dryrun"}
	not d.allow
	[v.id | some v in d.violations] == ["request_unknown_write_route"]
	count(d.dryrun) == 0
}

test_allow_decision_defined_without_config if {
	authz.decision.allow with input as fixtures.create_compliant with data.authz_config as {}
}

test_allow_container_rules_only_on_create if {
	# Every container rule guards on request.is_container_create: the worst
	# container view, on another endpoint, denies nothing.
	worst := fixtures.create({
		"privileged": true, "read_only": false, "cap_add": ["ALL"], "cap_drop": [],
		"user": {"raw": "", "name": "", "uid": null, "group": "", "source": "request", "resolved": false},
		"security": {"no_new_privileges": false, "seccomp": "unconfined"},
		"namespaces": {"pid": "host"}, "mounts": [fixtures.bind("/")], "publish_all": true,
		"resources": {"memory": 0, "nano_cpus": 0, "pids_limit": null, "oom_kill_disable": true, "cgroup_parent": "x"},
		"devices": [{"path_on_host": "/dev/kvm"}], "sysctls": {"kernel.msgmax": "1"},
	})
	ids := {v.id | some v in authz.decision.violations} with input as worst
	ids == {
		"read_only_rootfs", "drop_all_caps", "cap_add_allowlist", "non_root_user", "no_new_privileges",
		"memory_limit", "cpu_limit", "pids_limit", "no_privileged", "no_host_namespaces",
		"no_unconfined_profiles", "no_devices", "host_mounts", "loopback_ports", "no_unsafe_sysctls",
		"no_cgroup_parent", "no_oom_kill_disable",
	}
	inspect := object.union(worst, {
		"request": {"method": "GET", "path": "/containers/x/json"},
		"route": {"endpoint": "container.inspect", "id": "x", "write": false},
	})
	d := authz.decision with input as inspect
	d.allow
	count(d.violations) == 0
}

test_scoped_exemption_matches_normalized_names if {
	ex := [{"images": ["docker.io/library/*"], "rules": ["no_privileged"], "reason": "normalized"}]
	inp := fixtures.create({
		"privileged": true, "image": "busybox",
		"image_ref": {"candidates": ["docker.io/library/busybox", "busybox"]},
	})
	d := authz.decision with input as inp with data.authz_config.exemptions as ex
	d.allow
}

# With the plugin's rule index, only the listed rules are evaluated: the
# index the plugin builds lists every rule that can fire (plugin/policy's
# differential test), so this only shows the selection.
test_index_selects_the_rules_of_the_endpoint if {
	inp := {"route": {"endpoint": "container.exec", "id": "web", "write": true}, "exec": {"container": "web", "privileged": true}, "user": {"name": ""}}
	by := {"container.exec": [["exec", "exec_no_privileged"]]}
	d := authz.decision with input as inp with data.authz_index as {"always": [], "by_endpoint": by, "every": {}}
	{v.id | some v in d.violations} == {"exec_no_privileged"}
	skipped := authz.decision with input as inp with data.authz_index as {"always": [], "by_endpoint": {}, "every": {}}
	skipped.allow
	all := authz.decision with input as inp with data.authz_index as {"always": [], "by_endpoint": {}, "every": {"container.exec": true}}
	"exec_no_privileged" in {v.id | some v in all.violations}
}

test_an_unknown_level_judges_at_restricted if {
	d := authz.decision with input as {"route": {"endpoint": "container.create"}, "user": {"name": "eve", "groups": []}}
		with data.authz.rules as {"g": {"r": {"deny": {{"id": "r", "msg": "m", "levels": ["restricted"]}}}}}
		with data.authz_config as {"levels": {"users": {"eve": "typo"}}}
	d.level == "restricted"
	count(d.violations) == 1
}
