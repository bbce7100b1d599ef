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
