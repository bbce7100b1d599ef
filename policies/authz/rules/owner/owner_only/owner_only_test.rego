package authz.rules.owner.owner_only_test

import data.authz.rules.owner.owner_only as rule

_obj(kind, owner, role) := {"kind": kind, "ref": "web", "id": "0123456789abcdef0123", "name": "web", "owner": owner, "role": role, "predefined": false}

_req(endpoint, user, objects) := {
	"route": {"endpoint": endpoint, "id": "web", "write": true},
	"request": {"method": "POST", "path": "/x", "query": {}},
	"user": {"name": user},
	"owner": {"objects": objects},
}

test_deny_another_users_container if {
	some endpoint in ["container.stop", "container.exec", "container.delete", "container.logs", "container.rename", "container.kill", "exec.start", "container.archive", "task.logs"]
	ds := rule.deny with input as _req(endpoint, "bob", [_obj("container", "alice", "target")])
	count(ds) == 1
	some d in ds
	d.id == "owner_only"
	contains(d.msg, "belongs to another user")
	not contains(d.msg, "alice")
}

test_deny_nobodys_object if {
	ds := rule.deny with input as _req("volume.delete", "bob", [_obj("volume", "", "target")])
	count(ds) == 1
	some d in ds
	contains(d.msg, "belongs to nobody")
}

test_deny_connect_to_another_users_network if {
	objs := [_obj("container", "bob", "target"), _obj("network", "alice", "attach")]
	count(rule.deny) == 1 with input as _req("network.connect", "bob", objs)
}

test_deny_connect_of_another_users_container if {
	objs := [_obj("container", "alice", "target"), _obj("network", "", "attach")]
	count(rule.deny) == 1 with input as _req("network.connect", "bob", objs)
}

test_deny_without_owner_view if {
	inp := json.remove(_req("container.stop", "bob", []), ["owner"])
	count(rule.deny) == 1 with input as inp
}

test_deny_prune if {
	some endpoint in ["container.prune", "volume.prune", "network.prune"]
	count(rule.deny) == 1 with input as _req(endpoint, "bob", [])
}

test_allow_own_objects if {
	some endpoint in ["container.stop", "container.exec", "container.delete", "exec.start", "service.delete", "network.delete"]
	count(rule.deny) == 0 with input as _req(endpoint, "alice", [_obj("container", "alice", "target")])
}

test_allow_connect_own_container_to_shared_network if {
	shared := [_obj("container", "bob", "target"), _obj("network", "", "attach")]
	count(rule.deny) == 0 with input as _req("network.connect", "bob", shared)
	bridge := [_obj("container", "bob", "target"), object.union(_obj("network", "", "attach"), {"name": "bridge", "predefined": true})]
	count(rule.deny) == 0 with input as _req("network.disconnect", "bob", bridge)
}

test_allow_admin if {
	count(rule.deny) == 0 with input as _req("container.delete", "ops", [_obj("container", "alice", "target")])
		with data.authz_config.admins as ["ops"]
	count(rule.deny) == 0 with input as _req("volume.delete", "ops", [_obj("volume", "", "target")])
		with data.authz_config.admins as ["ops"]
	count(rule.deny) == 0 with input as _req("container.prune", "ops", []) with data.authz_config.admins as ["ops"]
}

# Without identity (the plain unix socket) every caller is "": the rule
# does not apply, or it would lock every such host out of its containers.
test_allow_anonymous if {
	count(rule.deny) == 0 with input as json.remove(_req("container.stop", "", []), ["owner"])
	count(rule.deny) == 0 with input as _req("container.prune", "", [])
}

test_allow_object_the_daemon_lacks if {
	count(rule.deny) == 0 with input as _req("container.stop", "bob", [])
}

test_allow_reads_and_creates if {
	count(rule.deny) == 0 with input as json.remove(_req("container.inspect", "bob", []), ["owner"])
	count(rule.deny) == 0 with input as json.remove(_req("container.create", "bob", []), ["owner"])
}

test_deny_names_an_object_by_its_id_when_it_has_no_other_name if {
	vol := object.union(_obj("volume", "alice", "target"), {"name": "data", "id": "data"})
	ds := rule.deny with input as _req("volume.delete", "bob", [vol])
	some d in ds
	contains(d.msg, "may not delete volume data: it belongs")
}

test_deny_create_using_another_users_objects if {
	vol := object.union(_obj("volume", "alice", "attach"), {"id": "data", "name": "data"})
	ds := rule.deny with input as _req("container.create", "bob", [vol])
	some d in ds
	contains(d.msg, "may not mount volume data: it belongs to another user")
	count(rule.deny) == 1 with input as _req("service.create", "bob", [_obj("network", "alice", "attach")])
	count(rule.deny) == 1 with input as _req("container.create", "bob", [_obj("container", "alice", "attach")])
}

test_allow_create_using_own_and_shared_objects if {
	objs := [_obj("volume", "bob", "attach"), _obj("network", "", "attach"), _obj("container", "bob", "attach")]
	count(rule.deny) == 0 with input as _req("container.create", "bob", objs)
	count(rule.deny) == 0 with input as _req("container.create", "ops", [_obj("volume", "alice", "attach")])
		with data.authz_config.admins as ["ops"]
}

test_deny_build_in_another_users_network if {
	objs := [_obj("network", "alice", "attach")]
	some v in rule.deny with input as _req("build", "bob", objs)
	contains(v.msg, "may not join network")
	count(rule.deny) == 0 with input as _req("build", "bob", [_obj("network", "", "attach")])
}

# bob's container is named "1111", a prefix of alice's container's id: the
# daemon would stop alice's once bob renames his between check and handler.
test_deny_name_that_is_another_users_id_prefix if {
	mine := {"kind": "container", "ref": "1111", "id": "abcd", "name": "1111", "owner": "bob", "role": "target"}
	hers := {"kind": "container", "ref": "1111", "id": "1111ffff", "name": "web", "owner": "alice", "role": "target"}
	some v in rule.deny with input as _req("container.stop", "bob", [mine, hers])
	contains(v.msg, "name yours by its full id")
	count(rule.deny) == 1 with input as _req("container.stop", "bob", [mine, hers])
}
