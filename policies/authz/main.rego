# METADATA
# description: |
#   The entrypoint. Collects every rule's violations generically (adding a
#   rule is adding a directory), then applies per-rule modes and exemptions
#   from data. Rules stay pure: only this package knows about either.
#   It also picks the caller's level (Pod Security Standards: privileged,
#   baseline, restricted) from data levels, and enforces only the rules
#   that declare that level in their METADATA (custom.levels).
package authz

import data.authz.lib.request

default _config := {}

_config := data.authz_config

_modes := object.get(_config, "modes", {})

# _all holds the violations of the rules in the caller's level, without
# the levels result.violation copied from each rule's METADATA. A rule
# outside the level is not reported anywhere: the request is judged at its
# level, as a Kubernetes namespace is.
_all contains object.remove(v, ["levels"]) if {
	not _indexed
	some v in data.authz.rules[_][_].deny
	level in object.get(v, "levels", _level_names)
}

_all contains object.remove(v, ["levels"]) if {
	some [group, rule] in _indexed
	some v in data.authz.rules[group][rule].deny
	level in object.get(v, "levels", _level_names)
}

# _indexed are the rules that can fire on the endpoint, [group, rule]
# pairs. The plugin builds data.authz_index at load from each rule's
# custom.endpoints (its METADATA): by_endpoint lists, for an endpoint few rules
# declare, those rules and the ones that declare none (always); always
# lists the rules that declare none, evaluated on every request, so a rule
# without the declaration is never skipped; every names the endpoints most
# rules declare (a container create), where enumerating every rule costs
# less than looking each one up. lib/result makes a rule fire only on the
# endpoints it declares, so skipping the others changes no decision
# (plugin/policy's differential test checks it). Without an index (opa
# eval, policy test) _indexed is undefined and every rule is evaluated.
_indexed := object.get(data.authz_index.by_endpoint, input.route.endpoint, data.authz_index.always) if {
	not data.authz_index.every[input.route.endpoint]
}

# The levels, loosest first (Pod Security Standards). privileged keeps only
# the rules every level has: request guards and the admin-only doors.
_level_names := ["privileged", "baseline", "restricted"]

_rank := {"privileged": 0, "baseline": 1, "restricted": 2}

_levels := object.get(_config, "levels", {})

# level is the level that judges the request: the caller's own entry in
# levels.users, else the strictest level among their groups' entries in
# levels.groups (a grant to one group never loosens a member of a stricter
# one), else levels.default, else restricted (every rule). The plugin
# refuses any other level name at load; should one get past it, it judges
# at restricted, never at a level no rule belongs to (which would enforce
# nothing).
level := l if {
	l := _assigned_level
	l in _level_names
} else := "restricted"

_assigned_level := object.get(object.get(_levels, "users", {}), input.user.name, null) if {
	input.user.name != ""
	object.get(object.get(_levels, "users", {}), input.user.name, null) != null
} else := _strictest(_group_levels) if {
	count(_group_levels) > 0
} else := object.get(_levels, "default", "restricted")

_group_levels contains l if {
	input.user.name != ""
	some g in request.caller_groups
	l := object.get(object.get(_levels, "groups", {}), g, null)
	l != null
}

_strictest(ls) := l if {
	some l in ls
	ranks := {object.get(_rank, x, 2) | some x in ls}
	object.get(_rank, l, 2) == max(ranks)
}

# METADATA
# entrypoint: true
# description: The decision the plugin asks for on every request.
decision := {
	"allow": count(violations) == 0,
	"violations": violations,
	"dryrun": dryrun,
	"exempted": exempted,
	"level": level,
}

violations contains v if {
	some v in _all
	not _waived(v)
	not _dryrun(v)
}

dryrun contains v if {
	some v in _all
	not _waived(v)
	_dryrun(v)
}

# Request guards are never in dryrun either: the plugin refuses such a mode
# at load, and this holds should one get past it.
_dryrun(v) if {
	_exemptable(v)
	object.get(_modes, v.id, "enforce") == "dryrun"
}

exempted contains object.union(v, {"exemption": reason}) if {
	some v in _all
	reason := _exemption_reason(v)
}

_waived(v) if _exemption_reason(v)

# Request guards (rule ids starting with request_) protect the plugin's own
# view of the request; no exemption waives them.
_exemptable(v) if not startswith(v.id, "request_")

# _exemption_reasons holds [violation, reason] for every waiver that applies.
_exemption_reasons contains [v, "exempt user"] if {
	some v in _all
	_exemptable(v)
	request.caller_in(object.get(_config, "exempt_users", []))
}

_exemption_reasons contains [v, object.get(e, "reason", "exemption without a reason")] if {
	some v in _all
	_exemptable(v)
	some e in object.get(_config, "exemptions", [])
	_matches_who(e)
	_matches_image(object.get(e, "images", ["*"]))
	_matches_any(object.get(e, "rules", ["*"]), v.id)
	not _expired(e)
}

# An exemption names who it is for with users, groups or both (either
# matching is enough: the exemption is for these users and these groups'
# members); with neither it is for everyone, as before groups existed.
_matches_who(e) if {
	not "users" in object.keys(e)
	not "groups" in object.keys(e)
}

_matches_who(e) if _matches_any(object.get(e, "users", []), input.user.name)

_matches_who(e) if {
	input.user.name != ""
	some g in request.caller_groups
	_matches_any(object.get(e, "groups", []), g)
}

# An exemption's image patterns match the image as sent or any name the
# plugin normalized it to (busybox, docker.io/library/busybox); a request
# without a container view has the image "", which only "*" matches.
_matches_image(patterns) if _matches_any(patterns, _image)

_matches_image(patterns) if {
	some name in object.get(object.get(object.get(input, "container", {}), "image_ref", {}), "candidates", [])
	_matches_any(patterns, name)
}

_image := object.get(object.get(input, "container", {}), "image", "")

# The first reason, in a stable order, when several exemptions apply.
_exemption_reason(v) := min({r | some [x, r] in _exemption_reasons; x == v})

_matches_any(patterns, value) if {
	some p in patterns
	_matches(p, value)
}

_matches("*", _)

_matches(p, value) if {
	p != "*"
	endswith(p, "*")
	startswith(value, trim_suffix(p, "*"))
}

_matches(p, value) if p == value

# An exemption with an "expires" timestamp (RFC 3339) stops applying then,
# without a restart: time.now_ns() is read at every decision.
# An empty "expires" means none, as the plugin's load-time check reads it.
_expired(e) if {
	e.expires != ""
	time.parse_rfc3339_ns(e.expires) <= time.now_ns()
}
