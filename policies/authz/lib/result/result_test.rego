package authz.lib.result_test

import data.authz.lib.result

test_violation_from_package_metadata if {
	chain := [
		{"path": ["data", "authz", "rules", "container", "x"], "annotations": {"scope": "rule"}},
		{
			"path": ["data", "authz", "rules", "container", "x"],
			"annotations": {"scope": "package", "title": "T", "custom": {"fix": "F", "severity": "high"}},
		},
	]
	result.violation(chain, "m") == {
		"id": "x", "title": "T", "msg": "m", "fix": "F", "severity": "high",
		"levels": ["privileged", "baseline", "restricted"],
	}
}

test_service_fix if {
	chain := [{
		"path": ["data", "authz", "rules", "container", "x"],
		"annotations": {"scope": "package", "title": "T", "custom": {"fix": "F", "fix_service": "S", "severity": "low"}},
	}]
	result.violation(chain, "m").fix == "S" with input as {"service": {"name": "s"}}
	result.violation(chain, "m").fix == "F" with input as {}
}

test_fix_names_the_limits_in_force if {
	chain := [{
		"path": ["data", "authz", "rules", "container", "x"],
		"annotations": {"scope": "package", "custom": {"fix": "at most {max_memory}, {max_cpus} CPUs, {max_pids} pids"}},
	}]
	result.violation(chain, "m").fix == "at most 4096m, 4 CPUs, 4096 pids" with input as {}
	p := {"max_memory": 536870912}
	v := result.violation(chain, "m") with input as {} with data.authz_config.params as p
	v.fix == "at most 512m, 4 CPUs, 4096 pids"
	odd := result.violation(chain, "m") with input as {} with data.authz_config.params as {"max_memory": 1000000000}
	odd.fix == "at most 1000000000, 4 CPUs, 4096 pids"
}

test_id_is_the_last_package_segment if {
	chain := [{"path": ["data", "authz", "rules", "exec", "deep", "rule_id"], "annotations": {"scope": "package"}}]
	v := result.violation(chain, "m") with input as {}
	v == {"id": "rule_id", "title": "", "msg": "m", "fix": "", "severity": "", "levels": ["privileged", "baseline", "restricted"]}
}

test_defined_without_package_metadata if {
	# rego.metadata.chain() starts with the rule's own path, package path + rule name.
	chain := [{"path": ["data", "authz", "rules", "container", "x", "deny"]}]
	v := result.violation(chain, "m") with input as {}
	v == {"id": "x", "title": "", "msg": "m", "fix": "", "severity": "", "levels": ["privileged", "baseline", "restricted"]}
}

test_violation_carries_the_rule_levels if {
	chain := [{
		"path": ["data", "authz", "rules", "container", "x"],
		"annotations": {"scope": "package", "custom": {"levels": ["restricted"]}},
	}]
	v := result.violation(chain, "m") with input as {}
	v.levels == ["restricted"]
}

# A container Compose created (input.container.compose, from its labels)
# reads the Compose key; a swarm service still reads fix_service; any other
# request, and a rule without fix_compose, reads fix.
test_compose_fix_selection if {
	chain := [{
		"path": ["data", "authz", "rules", "container", "x"],
		"annotations": {"scope": "package", "custom": {"fix": "F", "fix_service": "S", "fix_compose": "C"}},
	}]
	compose := {"container": {"compose": {"project": "shop", "service": "web"}}}
	result.violation(chain, "m").fix == "C" with input as compose
	result.violation(chain, "m").fix == "F" with input as {"container": {}}
	result.violation(chain, "m").fix == "F" with input as {}
	result.violation(chain, "m").fix == "S" with input as object.union(compose, {"service": {"name": "s"}})
}

test_compose_without_fix_compose_falls_back_to_fix if {
	chain := [{
		"path": ["data", "authz", "rules", "container", "x"],
		"annotations": {"scope": "package", "custom": {"fix": "F", "fix_service": "S"}},
	}]
	result.violation(chain, "m").fix == "F" with input as {"container": {"compose": {"project": "p", "service": "s"}}}
}

test_compose_fix_names_the_limits_in_force if {
	chain := [{
		"path": ["data", "authz", "rules", "container", "x"],
		"annotations": {"scope": "package", "custom": {
			"fix": "--memory at most {max_memory}",
			"fix_compose": "mem_limit: at most {max_memory}, cpus: at most {max_cpus}, pids_limit: at most {max_pids}",
		}},
	}]
	inp := {"container": {"compose": {"project": "p", "service": "s"}}}
	p := {"max_memory": 536870912, "max_cpus": 2, "max_pids": 512}
	v := result.violation(chain, "m") with input as inp with data.authz_config.params as p
	v.fix == "mem_limit: at most 512m, cpus: at most 2, pids_limit: at most 512"
	d := result.violation(chain, "m") with input as inp
	d.fix == "mem_limit: at most 4096m, cpus: at most 4, pids_limit: at most 4096"
}

test_compose_fix_for_volumes_and_networks if {
	chain := [{
		"path": ["data", "authz", "rules", "volume", "x"],
		"annotations": {"scope": "package", "custom": {"fix": "F", "fix_compose": "C"}},
	}]
	result.violation(chain, "m").fix == "C" with input as {"volume": {"compose": {"project": "p", "volume": "data"}}}
	result.violation(chain, "m").fix == "C" with input as {"network": {"compose": {"project": "p", "network": "front"}}}
	result.violation(chain, "m").fix == "F" with input as {"volume": {"name": "data"}}
	result.violation(chain, "m").fix == "F" with input as {"network": {"name": "front"}}
}
