# METADATA
# description: |
#   Builds a violation from the calling rule's package METADATA, so the id,
#   title, fix and severity cannot drift from the rule (Regal's result.fail).
package authz.lib.result

# violation returns {id, title, msg, fix, severity}; the id is the last
# segment of the rule's package path. For a swarm service the fix is
# custom.fix_service when the rule has one (docker service create spells
# some flags differently: --limit-memory for --memory).
violation(chain, msg) := {
	"id": _id(ann),
	"title": object.get(ann.annotations, "title", ""),
	"msg": msg,
	"fix": _fix(object.get(ann.annotations, "custom", {})),
	"severity": object.get(object.get(ann.annotations, "custom", {}), "severity", ""),
} if {
	some ann in chain
	ann.annotations.scope == "package"
}

_fix(custom) := custom.fix_service if {
	input.service
	custom.fix_service
}

_fix(custom) := object.get(custom, "fix", "") if {
	not _service_fix(custom)
}

_service_fix(custom) if {
	input.service
	custom.fix_service
}

_id(ann) := ann.path[count(ann.path) - 1]
