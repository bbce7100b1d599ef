package authz.rules.container.non_root_user_test

import data.authz.lib.fixtures
import data.authz.rules.container.non_root_user as rule

_user(raw, name, uid, group) := fixtures.create({"user": {
	"raw": raw, "name": name, "uid": uid, "group": group,
	"source": "request", "resolved": false,
}})

_image_user(raw, name, uid) := fixtures.create({"user": {
	"raw": raw, "name": name, "uid": uid, "group": "",
	"source": "image", "resolved": false,
}})

test_allow_numeric_non_root if {
	count(rule.deny) == 0 with input as fixtures.create_compliant
	count(rule.deny) == 0 with input as _user("1000", "1000", 1000, "")
}

test_allow_root_group if {
	count(rule.deny) == 0 with input as _user("1000:0", "1000", 1000, "0")
}

test_deny_no_user if {
	r := rule.deny with input as _user("", "", null, "")
	[v.msg | some v in r] == ["no user is set and the image's user cannot be verified"]
}

test_deny_uid_zero_with_non_root_group if {
	r := rule.deny with input as _user("0:1000", "0", 0, "1000")
	[v.msg | some v in r] == [`user "0:1000" is uid 0 (root)`]
}

test_deny_uid_zero_forms if {
	count(rule.deny) == 1 with input as _user("0", "0", 0, "")
	count(rule.deny) == 1 with input as _user("00", "00", 0, "")
	count(rule.deny) == 1 with input as _user("+0", "+0", 0, "")
	count(rule.deny) == 1 with input as _user("0:1000", "0", 0, "1000")
}

test_deny_root_name if {
	r := rule.deny with input as _user("root:root", "root", null, "root")
	[v.msg | some v in r] == [`user "root:root" is root`]
}

test_deny_negative_uid if {
	count(rule.deny) == 1 with input as _user("-5", "-5", -5, "")
}

test_deny_name_not_listed if {
	r := rule.deny with input as _user("app", "app", null, "")
	[v.msg | some v in r] == [`user name "app" cannot be shown to be non-root (use a numeric uid)`]
}

test_allow_name_only_when_listed if {
	inp := _user("app:app", "app", null, "app")
	count(rule.deny) == 0 with input as inp with data.authz_config.params as {"allowed_user_names": ["app"]}
	count(rule.deny) == 1 with input as inp with data.authz_config.params as {"allowed_user_names": ["other"]}
}

test_deny_root_even_when_listed if {
	inp := _user("root", "root", null, "")
	count(rule.deny) == 1 with input as inp with data.authz_config.params as {"allowed_user_names": ["root"]}
}

test_deny_root_resolved_to_uid_zero_once if {
	inp := fixtures.create({"user": {"raw": "root", "name": "root", "uid": 0, "group": "", "resolved": true}})
	r := rule.deny with input as inp
	[v.msg | some v in r] == [`user "root" is uid 0 (root)`]
}

test_deny_uid_null_root if {
	r := rule.deny with input as _user("root", "root", null, "")
	[v.msg | some v in r] == [`user "root" is root`]
}

test_deny_image_without_user if {
	r := rule.deny with input as _image_user("", "", null)
	[v.msg | some v in r] == ["image busybox sets no USER, so it runs as root"]
}

test_allow_image_user_non_root if {
	count(rule.deny) == 0 with input as _image_user("1000", "1000", 1000)
}

test_deny_image_user_root if {
	r := rule.deny with input as _image_user("0", "0", 0)
	[v.msg | some v in r] == [`the image's USER "0" is uid 0 (root)`]
}

test_allow_name_resolved_in_image if {
	# The plugin resolved "app" to 1000 in the image's /etc/passwd.
	inp := fixtures.create({"user": {"raw": "app", "name": "app", "uid": 1000, "group": "", "resolved": true}})
	count(rule.deny) == 0 with input as inp
}
