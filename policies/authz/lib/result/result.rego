# METADATA
# description: |
#   Builds a violation from the calling rule's package METADATA, so the id,
#   title, fix and severity cannot drift from the rule (Regal's result.fail).
package authz.lib.result

import data.authz.lib.params

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

_fix(custom) := strings.replace_n(_limits, custom.fix_service) if {
	input.service
	custom.fix_service
}

_fix(custom) := strings.replace_n(_limits, object.get(custom, "fix", "")) if {
	not _service_fix(custom)
}

# A fix may name the configured maximums as {max_memory}, {max_cpus} and
# {max_pids}, so the developer reads the number in force.
_limits := {
	"{max_memory}": sprintf("%dm", [params.max_memory / 1048576]),
	"{max_cpus}": sprintf("%v", [params.max_cpus]),
	"{max_pids}": sprintf("%d", [params.max_pids]),
}

_service_fix(custom) if {
	input.service
	custom.fix_service
}

_id(ann) := ann.path[count(ann.path) - 1]
