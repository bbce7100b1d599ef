# METADATA
# description: |
#   Builds a violation from the calling rule's package METADATA, so the id,
#   title, fix and severity cannot drift from the rule (Regal's result.fail).
package authz.lib.result

import data.authz.lib.params

# violation returns {id, title, msg, fix, severity, levels}; the id is the
# last segment of the rule's package path. levels is the rule's
# custom.levels, which main.rego reads (and removes) to enforce only the
# rules of the caller's level; a rule that declares none (the plugin refuses
# it at load) is in every level, so a missing declaration never loosens. For a swarm service the fix is
# custom.fix_service when the rule has one (docker service create spells
# some flags differently: --limit-memory for --memory); for a container
# Compose creates, custom.fix_compose (the key in compose.yaml).
violation(chain, msg) := {
	"id": _id(link),
	"title": object.get(annotations, "title", ""),
	"msg": msg,
	"fix": _fix(custom),
	"severity": object.get(custom, "severity", ""),
	"levels": object.get(custom, "levels", ["privileged", "baseline", "restricted"]),
} if {
	link := _package_link(chain)
	annotations := object.get(link, "annotations", {})
	custom := object.get(annotations, "custom", {})
	_fires_on(custom)
}

# A rule that declares custom.endpoints fires only on those: the plugin
# evaluates a rule only for the endpoints it declares (data.authz_index,
# built at load), so this makes a rule tested in Rego behave exactly as
# the plugin runs it, and an endpoint missing from the list shows in the
# rule's own tests. A rule that declares none fires on every endpoint.
_fires_on(custom) if not custom.endpoints

_fires_on(custom) if input.route.endpoint in custom.endpoints

_package_link(chain) := link if {
	some link in chain
	_is_package(link)
}

# Without package METADATA (which the plugin refuses at load time) the
# violation still exists, so a rule never fails open: the id comes from the
# rule's own path, data.authz.rules.<group>.<id>.<rule>.
_package_link(chain) := {"path": array.slice(chain[0].path, 0, count(chain[0].path) - 1)} if {
	not _has_package_link(chain)
}

_has_package_link(chain) if {
	some link in chain
	_is_package(link)
}

_is_package(link) if link.annotations.scope == "package"

_fix(custom) := strings.replace_n(_limits, _fix_text(custom))

# One fix text per request: the swarm service's spelling (custom.fix_service)
# for a service, else the Compose key (custom.fix_compose) for what Compose
# creates (a container, volume or network: their labels), else the
# docker run flag (custom.fix). A rule without the special spelling falls
# back to custom.fix, so a missing key never loses the fix.
_fix_text(custom) := custom.fix_service if {
	input.service
	custom.fix_service
}

_fix_text(custom) := custom.fix_compose if {
	not _service_fix(custom)
	_from_compose
	custom.fix_compose
}

_fix_text(custom) := object.get(custom, "fix", "") if {
	not _service_fix(custom)
	not _compose_fix(custom)
}

# A fix may name the configured maximums as {max_memory}, {max_cpus} and
# {max_pids}, so the developer reads the number in force.
_limits := {
	"{max_memory}": _memory_flag(params.max_memory),
	"{max_cpus}": sprintf("%v", [params.max_cpus]),
	"{max_pids}": sprintf("%d", [params.max_pids]),
}

_service_fix(custom) if {
	input.service
	custom.fix_service
}

_compose_fix(custom) if {
	_from_compose
	custom.fix_compose
}

# What Compose creates carries its labels: a container (input.container.
# compose), a volume or a network of the project (input.volume.compose,
# input.network.compose on their creates).
_from_compose if input.container.compose

_from_compose if input.volume.compose

_from_compose if input.network.compose

_id(link) := link.path[count(link.path) - 1]

# _memory_flag spells bytes as docker's --memory takes them: 512m, or plain
# bytes when the maximum is not a whole number of MiB.
_memory_flag(bytes) := sprintf("%dm", [bytes / 1048576]) if bytes % 1048576 == 0

_memory_flag(bytes) := sprintf("%d", [bytes]) if bytes % 1048576 != 0
