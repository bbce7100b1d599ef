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
	result.violation(chain, "m") == {"id": "x", "title": "T", "msg": "m", "fix": "F", "severity": "high"}
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
	result.violation(chain, "m").fix == "at most 512m, 4 CPUs, 4096 pids" with input as {} with data.authz_config.params as {"max_memory": 536870912}
}
