package authz.rules.archive.archive_named_user_test

import data.authz.rules.archive.archive_named_user as rule

_put(raw, name, uid, group, user) := {
	"route": {"endpoint": "container.archive_put", "id": "web"},
	"archive": {"container": "web", "path": "/etc", "user": {"raw": raw, "name": name, "uid": uid, "group": group}},
	"user": {"name": user},
}

test_allow_numeric_users if {
	count(rule.deny) == 0 with input as _put("1000", "1000", 1000, "", "")
	count(rule.deny) == 0 with input as _put("1000:1000", "1000", 1000, "1000", "")
}

test_deny_names_and_root if {
	count(rule.deny) == 1 with input as _put("app", "app", null, "", "")
	count(rule.deny) == 1 with input as _put("1000:app", "1000", 1000, "app", "")
	count(rule.deny) == 2 with input as _put("app:app", "app", null, "app", "")
	count(rule.deny) == 1 with input as _put("", "", null, "", "")
}

test_deny_without_view if {
	count(rule.deny) == 1 with input as {"route": {"endpoint": "container.archive_put", "id": "web"}, "user": {"name": ""}}
}

test_allow_admin if {
	count(rule.deny) == 0 with input as _put("app", "app", null, "", "ops") with data.authz_config.admins as ["ops"]
}

test_reads_untouched if {
	count(rule.deny) == 0 with input as {"route": {"endpoint": "container.archive"}, "user": {"name": ""}}
}
