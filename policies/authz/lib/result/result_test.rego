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
