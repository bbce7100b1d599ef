package authz

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/moby/moby/api/types/container"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/owner"
)

const (
	idWeb = "1111111111111111111111111111111111111111111111111111111111111111"
	idOld = "2222222222222222222222222222222222222222222222222222222222222222"
	idNet = "3333333333333333333333333333333333333333333333333333333333333333"
	// idTask is a swarm task's container: made by swarm inside the
	// daemon, labelled with its service, never recorded itself.
	idTask = "4444444444444444444444444444444444444444444444444444444444444444"
)

var taskContainer = container.CreateRequest{
	Config:     &container.Config{Image: "busybox", User: "1000:1000", Labels: map[string]string{"com.docker.swarm.service.id": "svc1"}},
	HostConfig: hardenedContainer.HostConfig,
}

// ownerLookup is a daemon with alice's container web, a container old that
// predates dockward, a volume shared that exists, a network and an exec.
var ownerLookup = input.StaticLookup{
	Images:     testLookup.Images,
	Containers: map[string]container.CreateRequest{idWeb: hardenedContainer, idOld: hardenedContainer, idTask: taskContainer},
	Volumes:    map[string]map[string]string{"shared": {}, "data": {}},
	Networks:   map[string]input.NetworkInfo{"net": {ID: idNet, Name: "net", Driver: "bridge"}, idNet: {ID: idNet, Name: "net", Driver: "bridge"}},
	Execs:      map[string]string{"e1": idWeb},
	Tasks:      map[string]string{"t1": "svc1"},
	Services:   map[string]input.ServiceInfo{"svc1": {ID: "svc1"}},
}

// adminPolicy is the shipped library with ops as its admin.
func adminPolicy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.CopyFS(dir, os.DirFS(library)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "data.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	data["authz_config"]["admins"] = []any{"ops"}
	if b, err = json.Marshal(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openStore(t *testing.T, path string) *owner.Store {
	t.Helper()
	s, err := owner.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func req(user, method, uri, body string) authorization.Request {
	r := authorization.Request{User: user, RequestMethod: method, RequestURI: uri}
	if user != "" {
		r.UserAuthNMethod = "TLS"
	}
	if body != "" {
		r.RequestHeaders = map[string]string{"Content-Type": "application/json"}
		r.RequestBody = []byte(body)
	}
	return r
}

func answered(r authorization.Request, status int, body string) authorization.Request {
	r.ResponseStatusCode, r.ResponseBody = status, []byte(body)
	return r
}

// both runs a request as dockerd does: AuthZReq, then (if allowed) AuthZRes
// with the daemon's answer.
func both(t *testing.T, p *Plugin, r authorization.Request, status int, body string) (authorization.Response, authorization.Response) {
	t.Helper()
	q := p.AuthZReq(r)
	if !q.Allow {
		return q, authorization.Response{}
	}
	return q, p.AuthZRes(answered(r, status, body))
}

func ownerOf(t *testing.T, s owner.Owners, kind, id string) string {
	t.Helper()
	r, _, err := s.Lookup(kind, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Owner
}

const hardenedBody = `{"Image":"busybox","User":"1000:1000","HostConfig":{"ReadonlyRootfs":true,"Tmpfs":{"/tmp":""},"CapDrop":["ALL"],"SecurityOpt":["no-new-privileges"],"Memory":134217728,"NanoCpus":500000000,"PidsLimit":100}}`

// withBinds is hardenedBody mounting the given Binds.
func withBinds(binds ...string) string {
	b, _ := json.Marshal(binds)
	return strings.Replace(hardenedBody, `"ReadonlyRootfs":true`, `"ReadonlyRootfs":true,"Binds":`+string(b), 1)
}

// TestAuthZResRecords: what each answer does to the store.
func TestAuthZResRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		seed            map[string]string // kind/id -> owner before
		r               authorization.Request
		status          int
		body            string
		kind, id, owner string // the record after
		resOnly         bool   // AuthZRes alone (the request itself is judged elsewhere)
	}{
		{name: "container create by alice", r: req("alice", "POST", "/v1.41/containers/create?name=web", hardenedBody),
			status: 201, body: `{"Id":"` + idWeb + `","Warnings":[]}`, kind: owner.Container, id: idWeb, owner: "alice"},
		{name: "docker run -v newvol:/data: the volume the create made is alice's", r: req("alice", "POST", "/v1.41/containers/create", withBinds("newvol:/data")),
			status: 201, body: `{"Id":"` + idWeb + `"}`, kind: owner.Volume, id: "newvol", owner: "alice"},
		{name: "docker run -v shared:/data: an existing volume is not taken", r: req("alice", "POST", "/v1.41/containers/create", withBinds("shared:/data")),
			status: 201, body: `{"Id":"` + idWeb + `"}`, kind: owner.Volume, id: "shared", owner: ""},
		{name: "anonymous create: nobody's", r: req("", "POST", "/v1.41/containers/create", hardenedBody),
			status: 201, body: `{"Id":"` + idWeb + `"}`, kind: owner.Container, id: idWeb, owner: ""},
		{name: "anonymous docker run -v gone:/data: the stale record of a volume that is gone goes", seed: map[string]string{"volume/gone": "alice"},
			r: req("", "POST", "/v1.41/containers/create", withBinds("gone:/data")), status: 201, body: `{"Id":"` + idWeb + `"}`, kind: owner.Volume, id: "gone", owner: ""},
		{name: "anonymous volume create over a stale record: nobody's", seed: map[string]string{"volume/gone": "alice"},
			r: req("", "POST", "/v1.41/volumes/create", `{"Name":"gone"}`), status: 201, body: `{"Name":"gone"}`, kind: owner.Volume, id: "gone", owner: ""},
		{name: "anonymous volume create of a volume that exists: its record stays", seed: map[string]string{"volume/data": "alice"},
			r: req("", "POST", "/v1.41/volumes/create", `{"Name":"data"}`), status: 201, body: `{"Name":"data"}`, kind: owner.Volume, id: "data", owner: "alice"},
		{name: "failed create: nothing", r: req("alice", "POST", "/v1.41/containers/create", hardenedBody),
			status: 409, body: `{"message":"Conflict"}`, kind: owner.Container, id: idWeb, owner: ""},
		{name: "service create {ID}", r: req("alice", "POST", "/v1.41/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"busybox"}}}`),
			status: 201, body: `{"ID":"svc1"}`, kind: owner.Service, id: "svc1", owner: "alice", resOnly: true},
		{name: "network create", r: req("alice", "POST", "/v1.41/networks/create", `{"Name":"n2","Driver":"bridge"}`),
			status: 201, body: `{"Id":"` + idNet + `","Warning":""}`, kind: owner.Network, id: idNet, owner: "alice"},
		{name: "new volume", r: req("alice", "POST", "/v1.41/volumes/create", `{"Name":"fresh"}`),
			status: 201, body: `{"Name":"fresh","Driver":"local"}`, kind: owner.Volume, id: "fresh", owner: "alice"},
		{name: "new volume over a stale record (a volume gone without a delete)", seed: map[string]string{"volume/fresh": "carol"},
			r: req("alice", "POST", "/v1.41/volumes/create", `{"Name":"fresh"}`), status: 201, body: `{"Name":"fresh"}`,
			kind: owner.Volume, id: "fresh", owner: "alice"},
		{name: "existing volume nobody owns: not taken", r: req("bob", "POST", "/v1.41/volumes/create", `{"Name":"shared"}`),
			status: 201, body: `{"Name":"shared"}`, kind: owner.Volume, id: "shared", owner: ""},
		{name: "existing volume of alice: never overwritten", seed: map[string]string{"volume/data": "alice"},
			r: req("bob", "POST", "/v1.41/volumes/create", `{"Name":"data"}`), status: 201, body: `{"Name":"data"}`,
			kind: owner.Volume, id: "data", owner: "alice"},
		{name: "container delete by id prefix resolved at AuthZReq", seed: map[string]string{"container/" + idWeb: "alice"},
			r: req("alice", "DELETE", "/v1.41/containers/"+idWeb+"?force=1", ""), status: 204, kind: owner.Container, id: idWeb, owner: ""},
		{name: "anonymous delete cleans too", seed: map[string]string{"container/" + idWeb: "alice"},
			r: req("", "DELETE", "/v1.41/containers/"+idWeb, ""), status: 204, kind: owner.Container, id: idWeb, owner: ""},
		{name: "failed delete keeps the record", seed: map[string]string{"container/" + idWeb: "alice"},
			r: req("alice", "DELETE", "/v1.41/containers/"+idWeb, ""), status: 409, kind: owner.Container, id: idWeb, owner: "alice"},
		{name: "network delete by name", seed: map[string]string{"network/" + idNet: "alice"},
			r: req("alice", "DELETE", "/v1.41/networks/net", ""), status: 204, kind: owner.Network, id: idNet, owner: ""},
		{name: "volume delete", seed: map[string]string{"volume/data": "alice"},
			r: req("alice", "DELETE", "/v1.41/volumes/data", ""), status: 204, kind: owner.Volume, id: "data", owner: ""},
		{name: "container prune (admin) removes the deleted ids", seed: map[string]string{"container/" + idOld: "bob"},
			r: req("ops", "POST", "/v1.41/containers/prune", ""), status: 200, body: `{"ContainersDeleted":["` + idOld + `"],"SpaceReclaimed":0}`,
			kind: owner.Container, id: idOld, owner: ""},
		{name: "volume prune", seed: map[string]string{"volume/data": "alice"},
			r: req("", "POST", "/v1.41/volumes/prune", ""), status: 200, body: `{"VolumesDeleted":["data"]}`, kind: owner.Volume, id: "data", owner: ""},
	}
	dir := adminPolicy(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t, filepath.Join(t.TempDir(), "owners.db"))
			defer s.Close()
			for k, o := range tt.seed {
				kind, id, _ := strings.Cut(k, "/")
				if _, err := s.Put(kind, id, o, owner.Replace, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			// Seeds are older than the request (a stale record of a
			// volume that did not exist is replaced).
			time.Sleep(time.Millisecond)
			h := newHarness(t, dir, input.Builder{Lookup: ownerLookup, Owners: s, Groups: input.StaticGroups{}}, Options{})
			q, res := both(t, h.plugin, tt.r, tt.status, tt.body)
			if tt.resOnly {
				q, res = authorization.Response{Allow: true}, h.plugin.AuthZRes(answered(tt.r, tt.status, tt.body))
			}
			if !q.Allow {
				t.Fatalf("AuthZReq refused: %+v", q)
			}
			if !res.Allow {
				t.Fatalf("AuthZRes refused: %+v", res)
			}
			if got := ownerOf(t, s, tt.kind, tt.id); got != tt.owner {
				t.Errorf("owner of %s %s = %q, want %q", tt.kind, tt.id, got, tt.owner)
			}
		})
	}
}

// failingStore fails every write, as a full disk does.
type failingStore struct{ owner.Owners }

func (failingStore) Put(string, string, string, owner.PutPolicy, time.Time) (bool, error) {
	return false, errors.New("disk full")
}

// TestAuthZResRecordFails: a create whose owner cannot be recorded is
// answered Err (the object exists and is nobody's; the creator is told so
// with the id and the fix); a create answer without an id likewise.
func TestAuthZResRecordFails(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "owners.db"))
	defer s.Close()
	h := newHarness(t, library, input.Builder{Lookup: ownerLookup, Owners: failingStore{s}, Groups: input.StaticGroups{}}, Options{})
	r := req("alice", "POST", "/v1.41/containers/create", hardenedBody)
	_, res := both(t, h.plugin, r, 201, `{"Id":"`+idWeb+`"}`)
	if res.Allow || !strings.Contains(res.Err, "disk full") || !strings.Contains(res.Err, "dockward own container 111111111111 --user alice") {
		t.Errorf("AuthZRes = %+v, want Err naming the cause and the fix", res)
	}
	h = newHarness(t, library, input.Builder{Lookup: ownerLookup, Owners: s, Groups: input.StaticGroups{}}, Options{})
	_, res = both(t, h.plugin, r, 201, `not json`)
	if res.Allow || !strings.Contains(res.Err, "could not read its id") {
		t.Errorf("AuthZRes of an answer without an id = %+v, want Err", res)
	}
	// A delete whose record cannot be removed is still allowed.
	if res := h.plugin.AuthZRes(answered(req("alice", "DELETE", "/containers/"+idWeb, ""), 204, "")); !res.Allow {
		t.Errorf("delete AuthZRes = %+v, want allow", res)
	}
}

func decideOn(t *testing.T, p *Plugin, r authorization.Request) authorization.Response {
	t.Helper()
	return p.AuthZReq(r)
}

// TestOwnerOnlyDecisions: bob may not act on alice's container, alice and
// an admin may; an object that predates dockward (or whose record a crash
// between the create and AuthZRes never wrote) is nobody's: admins only,
// until an admin gives it away (what `dockward own` does).
func TestOwnerOnlyDecisions(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "owners.db"))
	defer s.Close()
	h := newHarness(t, adminPolicy(t), input.Builder{Lookup: ownerLookup, Owners: s, Groups: input.StaticGroups{}}, Options{})
	// alice creates web; idOld was created, then the plugin died before
	// AuthZRes: the daemon has it, the store does not.
	if _, res := both(t, h.plugin, req("alice", "POST", "/containers/create", hardenedBody), 201, `{"Id":"`+idWeb+`"}`); !res.Allow {
		t.Fatalf("create: %+v", res)
	}
	type step struct {
		user, method, uri, body string
		allow                   bool
		msg                     string
	}
	check := func(t *testing.T, steps []step) {
		t.Helper()
		for _, st := range steps {
			resp := decideOn(t, h.plugin, req(st.user, st.method, st.uri, st.body))
			if resp.Allow != st.allow {
				t.Errorf("%s %s %s: allow = %v (%s%s), want %v", st.user, st.method, st.uri, resp.Allow, resp.Msg, resp.Err, st.allow)
				continue
			}
			if st.msg != "" && !strings.Contains(resp.Msg, st.msg) {
				t.Errorf("%s %s %s: msg %q, want %q", st.user, st.method, st.uri, resp.Msg, st.msg)
			}
			if !st.allow && strings.Contains(resp.Msg, "alice") && st.user != "alice" {
				t.Errorf("the refusal names the owner: %q", resp.Msg)
			}
		}
	}
	check(t, []step{
		{"bob", "POST", "/containers/" + idWeb + "/stop", "", false, "[owner_only] user \"bob\" may not stop container"},
		{"bob", "POST", "/containers/" + idWeb + "/exec", `{"Cmd":["id"],"User":"1000"}`, false, "belongs to another user"},
		{"bob", "POST", "/exec/e1/start", `{}`, false, "may not run an exec in container"},
		{"bob", "DELETE", "/containers/" + idWeb + "?force=1", "", false, "owner_only"},
		{"bob", "GET", "/containers/" + idWeb + "/logs?stdout=1", "", false, "may not read the logs of"},
		{"bob", "POST", "/commit?container=" + idWeb, "", false, "owner_only"},
		{"bob", "GET", "/containers/" + idWeb + "/json", "", true, ""}, // inspect is a read: open
		{"alice", "POST", "/containers/" + idWeb + "/stop", "", true, ""},
		{"alice", "POST", "/exec/e1/start", `{}`, true, ""},
		{"ops", "POST", "/containers/" + idWeb + "/kill", "", true, ""},
		{"", "POST", "/containers/" + idWeb + "/stop", "", true, ""}, // no identity: not judged
		{"bob", "POST", "/containers/" + idOld + "/stop", "", false, "belongs to nobody"},
		{"alice", "POST", "/containers/" + idOld + "/stop", "", false, "belongs to nobody"},
		{"ops", "POST", "/containers/" + idOld + "/stop", "", true, ""},
		{"bob", "POST", "/containers/prune", "", false, "may not prune"},
		{"bob", "POST", "/networks/net/connect", `{"Container":"` + idOld + `"}`, false, "belongs to nobody"},
		{"bob", "POST", "/containers/missing/stop", "", true, ""}, // the daemon answers 404
		// A task container of a service nobody owns is nobody's.
		{"alice", "POST", "/containers/" + idTask + "/stop", "", false, "belongs to nobody"},
	})
	// alice's service svc1: its task containers are hers.
	if res := h.plugin.AuthZRes(answered(req("alice", "POST", "/services/create", `{"Name":"s"}`), 201, `{"ID":"svc1"}`)); !res.Allow {
		t.Fatalf("service create AuthZRes: %+v", res)
	}
	check(t, []step{
		{"alice", "POST", "/containers/" + idTask + "/stop", "", true, ""},
		{"alice", "GET", "/containers/" + idTask + "/logs?stdout=1", "", true, ""},
		{"alice", "GET", "/tasks/t1/logs?stdout=1", "", true, ""},
		{"bob", "GET", "/tasks/t1/logs?stdout=1", "", false, "may not read the logs of a task of service"},
		{"bob", "GET", "/services/svc1/logs?stdout=1", "", false, "belongs to another user"},
		{"bob", "POST", "/containers/" + idTask + "/exec", `{"Cmd":["id"],"User":"1000"}`, false, "belongs to another user"},
	})
	// A read that depends on the owner is not served from the read
	// cache: a change of owner takes effect at once.
	logs := "/containers/" + idWeb + "/logs?stdout=1"
	check(t, []step{{"alice", "GET", logs, "", true, ""}})
	if _, err := s.Put(owner.Container, idWeb, "carol", owner.Replace, time.Time{}); err != nil {
		t.Fatal(err)
	}
	check(t, []step{{"alice", "GET", logs, "", false, "belongs to another user"}, {"carol", "GET", logs, "", true, ""}})
	// dockward own container old --user bob
	if _, err := s.Put(owner.Container, idOld, "bob", owner.Replace, time.Time{}); err != nil {
		t.Fatal(err)
	}
	check(t, []step{
		{"bob", "POST", "/containers/" + idOld + "/stop", "", true, ""},
		{"bob", "POST", "/networks/net/connect", `{"Container":"` + idOld + `"}`, true, ""}, // net is nobody's: shared
		{"alice", "POST", "/containers/" + idOld + "/stop", "", false, "belongs to another user"},
	})
}

// TestOwnershipSurvivesRestart: a real bbolt file, closed and reopened by
// a new plugin, as a restart of dockward serve does.
func TestOwnershipSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "owners.db")
	dir := adminPolicy(t)
	s := openStore(t, path)
	h := newHarness(t, dir, input.Builder{Lookup: ownerLookup, Owners: s, Groups: input.StaticGroups{}}, Options{})
	if _, res := both(t, h.plugin, req("alice", "POST", "/containers/create", hardenedBody), 201, `{"Id":"`+idWeb+`"}`); !res.Allow {
		t.Fatalf("create: %+v", res)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	defer s.Close()
	h = newHarness(t, dir, input.Builder{Lookup: ownerLookup, Owners: s, Groups: input.StaticGroups{}}, Options{})
	if r := h.plugin.AuthZReq(req("bob", "POST", "/containers/"+idWeb+"/stop", "")); r.Allow {
		t.Error("after a restart bob may stop alice's container")
	}
	if r := h.plugin.AuthZReq(req("alice", "POST", "/containers/"+idWeb+"/stop", "")); !r.Allow {
		t.Errorf("after a restart alice may not stop her container: %s", r.Msg)
	}
}

// TestBrokenStore: with a store that could not be opened the plugin
// serves on; every request that needs an owner is denied as a plugin
// failure naming the file, creates by a user too (their owner could not be
// recorded), and the rest, anonymous requests included, is unaffected.
func TestBrokenStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "owners.db")
	if err := os.WriteFile(path, []byte("not a database, just some bytes that are surely not a bbolt meta page"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := owner.Open(path, 0)
	if err == nil {
		t.Fatal("corrupt store opened")
	}
	h := newHarness(t, adminPolicy(t), input.Builder{Lookup: ownerLookup, Owners: owner.Broken{Err: err}, Groups: input.StaticGroups{}}, Options{})
	for _, c := range []struct {
		r     authorization.Request
		allow bool
	}{
		{req("alice", "POST", "/containers/"+idWeb+"/stop", ""), false},
		{req("ops", "POST", "/containers/"+idWeb+"/stop", ""), false},
		{req("alice", "POST", "/containers/create", hardenedBody), false},
		{req("", "POST", "/containers/"+idWeb+"/stop", ""), true},
		{req("", "POST", "/containers/create", hardenedBody), true},
		{req("alice", "GET", "/containers/json", ""), true},
	} {
		resp := h.plugin.AuthZReq(c.r)
		if resp.Allow != c.allow {
			t.Errorf("%s %s by %q: allow = %v (%s), want %v", c.r.RequestMethod, c.r.RequestURI, c.r.User, resp.Allow, resp.Err, c.allow)
		}
		if !c.allow && (!strings.Contains(resp.Err, path) || !strings.Contains(resp.Err, "request_lookup_failed")) {
			t.Errorf("%s %s: Err %q does not name the store and the guard", c.r.RequestMethod, c.r.RequestURI, resp.Err)
		}
	}
}

// TestCreateUsingOthersObjects: a create may not mount another user's
// named volume, join their network, or take their container's volumes; a
// volume or network nobody owns is shared, and a record of a volume that is
// gone is stale.
func TestCreateUsingOthersObjects(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "owners.db"))
	defer s.Close()
	for _, r := range []struct{ kind, id, owner string }{
		{owner.Volume, "data", "alice"}, {owner.Network, idNet, "alice"}, {owner.Container, idWeb, "alice"},
		{owner.Volume, "gone", "alice"}, {owner.Container, idOld, "bob"},
	} {
		if _, err := s.Put(r.kind, r.id, r.owner, owner.Replace, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, adminPolicy(t), input.Builder{Lookup: ownerLookup, Owners: s, Groups: input.StaticGroups{}}, Options{})
	withNet := func(body, network string) string {
		return strings.Replace(body, `"ReadonlyRootfs":true`, `"ReadonlyRootfs":true,"NetworkMode":"`+network+`"`, 1)
	}
	withVolumesFrom := func(body, c string) string {
		return strings.Replace(body, `"ReadonlyRootfs":true`, `"ReadonlyRootfs":true,"VolumesFrom":["`+c+`:ro"]`, 1)
	}
	for _, c := range []struct {
		name, user, body string
		allow            bool
		msg              string
	}{
		{"bob mounts alice's volume", "bob", withBinds("data:/data"), false, `user "bob" may not mount volume data: it belongs to another user`},
		{"alice mounts her volume", "alice", withBinds("data:/data"), true, ""},
		{"bob mounts a volume nobody owns", "bob", withBinds("shared:/data"), true, ""},
		{"bob mounts a new volume over a stale record", "bob", withBinds("gone:/data"), true, ""},
		{"bob joins alice's network", "bob", withNet(hardenedBody, "net"), false, "may not join network net"},
		{"alice joins her network", "alice", withNet(hardenedBody, "net"), true, ""},
		{"bob takes alice's container's volumes", "bob", withVolumesFrom(hardenedBody, idWeb), false, "may not share the namespaces or volumes of container"},
		{"bob takes his own container's volumes", "bob", withVolumesFrom(hardenedBody, idOld), true, ""},
		{"an admin mounts alice's volume", "ops", withBinds("data:/data"), true, ""},
		{"anonymous: not judged", "", withBinds("data:/data"), true, ""},
	} {
		resp := h.plugin.AuthZReq(req(c.user, "POST", "/v1.41/containers/create", c.body))
		if resp.Allow != c.allow {
			t.Errorf("%s: allow = %v (%s%s), want %v", c.name, resp.Allow, resp.Msg, resp.Err, c.allow)
			continue
		}
		if c.msg != "" && !strings.Contains(resp.Msg, c.msg) {
			t.Errorf("%s: msg %q, want %q", c.name, resp.Msg, c.msg)
		}
	}
}

// TestBuildUsingOthersObjects: the classic builder (POST /build?version=1)
// runs each RUN step in a container made inside the daemon with
// NetworkMode = the networkmode query, so --network container:<c> shares
// that container's network namespace and --network <net> joins that
// network; neither is a create the plugin sees. The build itself must be
// refused when they are another user's.
func TestBuildUsingOthersObjects(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "owners.db"))
	defer s.Close()
	for _, r := range []struct{ kind, id, owner string }{
		{owner.Network, idNet, "alice"}, {owner.Container, idWeb, "alice"}, {owner.Container, idOld, "bob"},
	} {
		if _, err := s.Put(r.kind, r.id, r.owner, owner.Replace, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, adminPolicy(t), input.Builder{Lookup: ownerLookup, Owners: s, Groups: input.StaticGroups{}}, Options{})
	for _, c := range []struct {
		name, user, query string
		allow             bool
		msg               string
	}{
		{"bob builds in alice's container's network namespace", "bob", "networkmode=container:" + idWeb, false, "may not share the namespaces or volumes of container"},
		{"bob builds in alice's network", "bob", "networkmode=net", false, "may not join network net"},
		{"bob builds in his own container's namespace", "bob", "networkmode=container:" + idOld, true, ""},
		{"alice builds in her network", "alice", "networkmode=net", true, ""},
		{"bob builds on the default network", "bob", "networkmode=default", true, ""},
		{"an admin builds in alice's network", "ops", "networkmode=net", true, ""},
	} {
		resp := h.plugin.AuthZReq(req(c.user, "POST", "/v1.41/build?version=1&t=x&"+c.query, ""))
		if resp.Allow != c.allow {
			t.Errorf("%s: allow = %v (%s%s), want %v", c.name, resp.Allow, resp.Msg, resp.Err, c.allow)
			continue
		}
		if c.msg != "" && !strings.Contains(resp.Msg, c.msg) {
			t.Errorf("%s: msg %q, want %q", c.name, resp.Msg, c.msg)
		}
	}
}

// namedLookup is ownerLookup where bob's container idOld is named "1111",
// a prefix of alice's idWeb: the daemon resolves the name first and the
// prefix once the name is gone.
type namedLookup struct{ input.StaticLookup }

func (l namedLookup) Container(ctx context.Context, ref string) (input.ContainerInfo, error) {
	if ref == "1111" || ref == "cafe" {
		c, err := l.StaticLookup.Container(ctx, idOld)
		c.Name = ref
		return c, err
	}
	return l.StaticLookup.Container(ctx, ref)
}

// TestNameThatIsAnIDPrefix: bob names his container after the start of
// alice's container's id and sends docker stop <that name> while renaming
// his own: the plugin resolved the name to bob's container, the daemon (name
// gone) resolves the prefix to alice's. The reference must be refused while
// it can mean alice's container.
func TestNameThatIsAnIDPrefix(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "owners.db"))
	defer s.Close()
	for _, r := range []struct{ kind, id, owner string }{
		{owner.Container, idWeb, "alice"}, {owner.Container, idOld, "bob"},
	} {
		if _, err := s.Put(r.kind, r.id, r.owner, owner.Replace, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// bob's network "bbbb" and alice's network whose id starts with bbbb.
	const idBobNet, idAliceNet = "5555555555555555555555555555555555555555555555555555555555555555", "bbbb555555555555555555555555555555555555555555555555555555555555"
	for _, r := range []struct{ kind, id, owner string }{
		{owner.Network, idBobNet, "bob"}, {owner.Network, idAliceNet, "alice"},
	} {
		if _, err := s.Put(r.kind, r.id, r.owner, owner.Replace, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	lookup := ownerLookup
	lookup.Networks = map[string]input.NetworkInfo{
		"bbbb":     {ID: idBobNet, Name: "bbbb", Driver: "bridge"},
		idBobNet:   {ID: idBobNet, Name: "bbbb", Driver: "bridge"},
		idAliceNet: {ID: idAliceNet, Name: "anet", Driver: "bridge"},
	}
	h := newHarness(t, adminPolicy(t), input.Builder{Lookup: namedLookup{lookup}, Owners: s, Groups: input.StaticGroups{}}, Options{})
	withNet := func(network string) string {
		return strings.Replace(hardenedBody, `"ReadonlyRootfs":true`, `"ReadonlyRootfs":true,"NetworkMode":"`+network+`"`, 1)
	}
	for _, c := range []struct{ name, body string }{
		{"bob's create joins his network named as alice's network's id prefix", withNet("bbbb")},
	} {
		resp := h.plugin.AuthZReq(req("bob", "POST", "/v1.41/containers/create", c.body))
		if resp.Allow || !strings.Contains(resp.Msg, "name yours by its full id") {
			t.Errorf("%s: allow = %v (%s%s), want refused: name yours by its full id", c.name, resp.Allow, resp.Msg, resp.Err)
		}
	}
	if resp := h.plugin.AuthZReq(req("bob", "DELETE", "/v1.41/networks/bbbb", "")); resp.Allow || !strings.Contains(resp.Msg, "name yours by its full id") {
		t.Errorf("bob's network rm bbbb: allow = %v (%s%s), want refused", resp.Allow, resp.Msg, resp.Err)
	}
	if resp := h.plugin.AuthZReq(req("bob", "DELETE", "/v1.41/networks/"+idBobNet, "")); !resp.Allow {
		t.Errorf("bob's network rm by full id refused: %s%s", resp.Msg, resp.Err)
	}
	for _, c := range []struct {
		name, user, ref string
		allow           bool
		msg             string
	}{
		{"bob stops his container named as alice's id prefix", "bob", "1111", false, "name yours by its full id"},
		{"bob stops it by its full id", "bob", idOld, true, ""},
		{"bob stops his container whose hex name prefixes nobody's id", "bob", "cafe", true, ""},
		{"alice stops bob's container by that name", "alice", "1111", false, "belongs to another user"},
	} {
		resp := h.plugin.AuthZReq(req(c.user, "POST", "/v1.41/containers/"+c.ref+"/stop", ""))
		if resp.Allow != c.allow {
			t.Errorf("%s: allow = %v (%s%s), want %v", c.name, resp.Allow, resp.Msg, resp.Err, c.allow)
			continue
		}
		if c.msg != "" && !strings.Contains(resp.Msg, c.msg) {
			t.Errorf("%s: msg %q, want %q", c.name, resp.Msg, c.msg)
		}
	}
}
