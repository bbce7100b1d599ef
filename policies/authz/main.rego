# METADATA
# description: |
#   The entrypoint. Collects every rule's violations generically (adding a
#   rule is adding a directory), then applies per-rule modes and exemptions
#   from data. Rules stay pure: only this package knows about either.
package authz

default _config := {}

_config := data.authz_config

_modes := object.get(_config, "modes", {})

_all contains v if some v in data.authz.rules[_][_].deny

# METADATA
# entrypoint: true
# description: The decision the plugin asks for on every request.
decision := {
	"allow": count(violations) == 0,
	"violations": violations,
	"dryrun": dryrun,
	"exempted": exempted,
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
	input.user.name != ""
	input.user.name in object.get(_config, "exempt_users", [])
}

_exemption_reasons contains [v, object.get(e, "reason", "exemption without a reason")] if {
	some v in _all
	_exemptable(v)
	some e in object.get(_config, "exemptions", [])
	_matches_any(object.get(e, "users", ["*"]), input.user.name)
	_matches_image(object.get(e, "images", ["*"]))
	_matches_any(object.get(e, "rules", ["*"]), v.id)
	not _expired(e)
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
