# METADATA
# description: |
#   Builds a violation from the calling rule's package METADATA, so the id,
#   title, fix and severity cannot drift from the rule (Regal's result.fail).
package authz.lib.result

# violation returns {id, title, msg, fix, severity}; the id is the last
# segment of the rule's package path.
violation(chain, msg) := {
	"id": _id(ann),
	"title": object.get(ann.annotations, "title", ""),
	"msg": msg,
	"fix": object.get(object.get(ann.annotations, "custom", {}), "fix", ""),
	"severity": object.get(object.get(ann.annotations, "custom", {}), "severity", ""),
} if {
	some ann in chain
	ann.annotations.scope == "package"
}

_id(ann) := ann.path[count(ann.path) - 1]
