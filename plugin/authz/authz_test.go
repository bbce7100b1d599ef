package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/moby/moby/api/types/container"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/audit"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/internal/testutil"
	"github.com/dockward/dockward/plugin/policy"
)

const (
	minimalPolicy = "../policy/testdata/minimal"
	library       = "../../policies"
)

type harness struct {
	plugin *Plugin
	audit  *bytes.Buffer
	mu     *sync.Mutex
}

func (h harness) auditLines(t testing.TB) []map[string]any {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.audit.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// testLookup stands in for the daemon: busybox and alpine set no USER
// (root), app-image runs as uid 1000; web is a hardened container.
var testLookup = input.StaticLookup{Images: map[string]input.ImageInfo{
	"busybox": {ID: "sha256:bb"}, "b": {ID: "sha256:b"}, "slow": {ID: "sha256:slow"},
	"app-image": {ID: "sha256:app", User: "1000:1000"},
}, Containers: map[string]container.CreateRequest{"web": hardenedContainer}}

var webPids = int64(100)

// hardenedContainer is `docker create` with the restricted profile's flags,
// as the daemon stores it.
var hardenedContainer = container.CreateRequest{
	Config: &container.Config{Image: "busybox", User: "1000:1000"},
	HostConfig: &container.HostConfig{ReadonlyRootfs: true, Tmpfs: map[string]string{"/tmp": ""},
		CapDrop: []string{"ALL"}, CapAdd: []string{"NET_RAW"}, SecurityOpt: []string{"no-new-privileges"},
		// CPU by quota, so an update of the period alone changes it.
		Resources: container.Resources{Memory: 128 << 20, CPUQuota: 50000, PidsLimit: &webPids}},
}

func newHarness(t testing.TB, dir string, builder input.Builder, opts Options) harness {
	t.Helper()
	if builder.Lookup == nil {
		builder.Lookup = testLookup
	}
	var engine *policy.Engine
	if dir == "" {
		engine = policy.NewEngine(nil)
	} else {
		c, err := policy.Load(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		engine = policy.NewEngine(c)
	}
	buf, mu := &bytes.Buffer{}, &sync.Mutex{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	p := New(t.Context(), engine, builder, audit.New(lockedWriter{mu, buf}, nil, "test"), log, opts)
	return harness{plugin: p, audit: buf, mu: mu}
}

func create(body string) authorization.Request {
	return authorization.Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create",
		RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: []byte(body)}
}

// brokenDaemon fails every lookup, as a daemon that does not answer does.
type brokenDaemon struct{ input.StaticLookup }

func (brokenDaemon) Image(context.Context, string) (input.ImageInfo, error) {
	return input.ImageInfo{}, errors.New("daemon unreachable")
}

type panicResolver struct{}

func (panicResolver) Resolve(string) (string, error) { panic("resolver exploded") }

// TestFailClosed: every way the plugin can fail to reach a verdict denies.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dir     string
		builder input.Builder
		opts    Options
		req     authorization.Request
		wantMsg string // in Msg: the request was refused
		wantErr string // in Err: the plugin failed
	}{
		{name: "zero request", dir: minimalPolicy, req: authorization.Request{}, wantErr: "no method or URI"},
		{name: "empty create body", dir: minimalPolicy, req: create(""), wantMsg: "without a JSON body"},
		{name: "non-JSON create body", dir: minimalPolicy, req: create("nope"), wantMsg: "not a JSON object"},
		{name: "no policy loaded", dir: "", req: create(`{"Image":"b"}`), wantErr: "no policy is loaded"},
		{name: "evaluation timeout", dir: minimalPolicy, opts: Options{EvalTimeout: 20 * time.Millisecond},
			req: create(`{"Image":"slow"}`), wantErr: "policy evaluation failed"},
		{name: "panic", dir: minimalPolicy, builder: input.Builder{Resolver: panicResolver{}},
			req: create(`{"Image":"b","HostConfig":{"Binds":["/etc:/x"]}}`), wantErr: "panic: resolver exploded"},
		// A failed lookup is the plugin's failure (Err) and still lists
		// every violation; without the guard rule (minimal policy) Go
		// denies it anyway.
		{name: "failed lookup, shipped policy", dir: library, builder: input.Builder{Lookup: brokenDaemon{}},
			req:     create(`{"Image":"busybox","HostConfig":{"Privileged":true}}`),
			wantErr: "[request_lookup_failed] the user of image busybox could not be looked up on the daemon: daemon unreachable"},
		{name: "failed lookup lists the other violations", dir: library, builder: input.Builder{Lookup: brokenDaemon{}},
			req: create(`{"Image":"busybox","HostConfig":{"Privileged":true}}`), wantErr: "[no_privileged]"},
		{name: "failed lookup, policy without the guard", dir: minimalPolicy, builder: input.Builder{Lookup: brokenDaemon{}},
			req: create(`{"Image":"busybox","HostConfig":{"ReadonlyRootfs":true}}`), wantErr: "could not be looked up on the daemon: the user of image busybox (daemon unreachable)"},
		{name: "policy verdict", dir: minimalPolicy, req: create(`{"Image":"b","HostConfig":{"Privileged":true}}`),
			wantMsg: "[no_privileged] container is privileged — fix: remove --privileged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.dir, tt.builder, tt.opts)
			resp := h.plugin.AuthZReq(tt.req)
			if resp.Allow {
				t.Fatalf("allowed: %+v", resp)
			}
			if tt.wantMsg != "" && !strings.Contains(resp.Msg, tt.wantMsg) {
				t.Errorf("Msg = %q, want %q", resp.Msg, tt.wantMsg)
			}
			if tt.wantErr != "" && !strings.Contains(resp.Err, tt.wantErr) {
				t.Errorf("Err = %q, want %q", resp.Err, tt.wantErr)
			}
			lines := h.auditLines(t)
			if len(lines) != 1 || lines[0][audit.KeyDecision] != "deny" {
				t.Fatalf("audit = %v, want one deny record", lines)
			}
		})
	}
}

func TestAuthZResAllows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, minimalPolicy, input.Builder{}, Options{})
	if !h.plugin.AuthZRes(authorization.Request{}).Allow {
		t.Fatal("AuthZRes denied")
	}
}

// fixture is a create request captured from the real docker CLI
// (plugin/testdata/requests).
type fixture struct {
	RequestMethod  string
	RequestURI     string `json:"RequestUri"`
	RequestHeaders map[string]string
	RequestBody    json.RawMessage
}

// TestCorpus runs every captured request through the real normalizer and the
// shipped policy: allow/* must be allowed, deny/<rule_id>/* denied by exactly
// that rule, with its fix in the message.
func TestCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../testdata/requests/*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../testdata/requests/deny/*/*.json")
	files = append(files, more...)
	if len(files) < 20 {
		t.Fatalf("only %d fixtures", len(files))
	}
	h := newHarness(t, library, input.Builder{}, Options{})
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, "../testdata/requests/"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var fx fixture
			if err := json.Unmarshal(b, &fx); err != nil {
				t.Fatal(err)
			}
			req := authorization.Request{RequestMethod: fx.RequestMethod, RequestURI: fx.RequestURI,
				RequestHeaders: fx.RequestHeaders}
			if len(fx.RequestBody) > 0 && string(fx.RequestBody) != "null" {
				req.RequestBody = fx.RequestBody
			}
			resp := h.plugin.AuthZReq(req)
			rel, _ := filepath.Rel("../testdata/requests", f)
			parts := strings.Split(rel, string(filepath.Separator))
			if parts[0] == "allow" {
				if !resp.Allow {
					t.Fatalf("denied: %s%s", resp.Msg, resp.Err)
				}
				return
			}
			rule := parts[1]
			if resp.Allow || resp.Err != "" {
				t.Fatalf("want a policy deny by %s, got %+v", rule, resp)
			}
			ids := violationIDs(resp.Msg)
			if len(ids) != 1 || ids[0] != rule {
				t.Errorf("violations %v, want exactly [%s]; message:\n%s", ids, rule, resp.Msg)
			}
			if !strings.Contains(resp.Msg, "— fix: ") {
				t.Errorf("message has no fix:\n%s", resp.Msg)
			}
		})
	}
}

func violationIDs(msg string) []string {
	var ids []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			if i := strings.Index(line, "]"); i > 0 {
				ids = append(ids, line[1:i])
			}
		}
	}
	sort.Strings(ids)
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// TestAuditRecord checks what an operator reads after a deny, and that no
// secret reaches it.
func TestAuditRecord(t *testing.T) {
	t.Parallel()
	h := newHarness(t, library, input.Builder{Groups: input.StaticGroups{"alice": {"docker", "alice"}}}, Options{})
	req := create(`{"Image":"busybox","Env":["SECRET_TOKEN=hunter2"],"HostConfig":{"Privileged":true}}`)
	req.RequestURI = "/v1.41/containers/create?name=web"
	req.User, req.UserAuthNMethod = "alice", "TLS"
	req.RequestHeaders["X-Registry-Auth"] = "c2VjcmV0"
	resp := h.plugin.AuthZReq(req)
	if resp.Allow {
		t.Fatal("allowed")
	}
	if want := "\njudged at level restricted (user alice, groups alice docker)\n"; !strings.Contains(resp.Msg, want) {
		t.Errorf("message %q lacks %q", resp.Msg, want)
	}
	lines := h.auditLines(t)
	if len(lines) != 1 {
		t.Fatalf("want 1 audit record, got %d", len(lines))
	}
	rec := lines[0]
	want := map[string]any{
		audit.KeySchema: "1", audit.KeyDecision: "deny", audit.KeyUser: "alice", audit.KeyAuthnMethod: "TLS",
		audit.KeyMethod: "POST", audit.KeyPath: "/containers/create", audit.KeyEndpoint: "container.create",
		audit.KeyContainerName: "web", audit.KeyImage: "busybox", audit.KeyPluginVersion: "test",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	for _, k := range []string{audit.KeyDecisionID, audit.KeyPolicyRevision, audit.KeyLatencyMS, "time"} {
		if rec[k] == nil || rec[k] == "" {
			t.Errorf("%s missing", k)
		}
	}
	if g, _ := json.Marshal(rec[audit.KeyGroups]); string(g) != `["alice","docker"]` {
		t.Errorf("groups = %s, want [alice docker]", g)
	}
	if rec[audit.KeyLevel] != "restricted" {
		t.Errorf("level = %v, want restricted", rec[audit.KeyLevel])
	}
	vs, _ := rec[audit.KeyViolations].([]any)
	found := false
	for _, v := range vs {
		if v.(map[string]any)["id"] == "no_privileged" {
			found = true
		}
	}
	if !found {
		t.Errorf("violations %v lack no_privileged", vs)
	}
	raw := h.audit.String()
	for _, secret := range []string{"hunter2", "c2VjcmV0"} {
		if strings.Contains(raw, secret) {
			t.Errorf("audit log contains secret %q", secret)
		}
	}
}

// TestAllowsAudited: plain allows are audited only when configured.
func TestAllowsAudited(t *testing.T) {
	t.Parallel()
	get := authorization.Request{RequestMethod: "GET", RequestURI: "/v1.41/containers/json"}
	for _, auditAllows := range []bool{false, true} {
		h := newHarness(t, minimalPolicy, input.Builder{}, Options{AuditAllows: auditAllows})
		if !h.plugin.AuthZReq(get).Allow {
			t.Fatal("GET denied")
		}
		if n := len(h.auditLines(t)); (n == 1) != auditAllows {
			t.Errorf("audit_allows=%v: %d records", auditAllows, n)
		}
	}
}

// TestAuditWriteFailureStillDecides: a full disk must not turn a deny into
// an allow.
func TestAuditWriteFailureStillDecides(t *testing.T) {
	t.Parallel()
	c, err := policy.Load(t.Context(), minimalPolicy)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	p := New(t.Context(), policy.NewEngine(c), input.Builder{}, audit.New(failWriter{}, nil, "t"), log, Options{})
	if p.AuthZReq(create(`{"Image":"b","HostConfig":{"Privileged":true}}`)).Allow {
		t.Fatal("allowed")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestReadCache: a read's decision is reused within the TTL and for the same
// policy revision only; writes are never cached.
func TestReadCache(t *testing.T) {
	t.Parallel()
	dir := testutil.CopyTree(t, minimalPolicy)
	c, err := policy.Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(c)
	log := logrus.New()
	log.SetOutput(io.Discard)
	p := New(t.Context(), engine, input.Builder{Lookup: testLookup}, nil, log, Options{ReadCacheTTL: time.Hour})
	get := authorization.Request{RequestMethod: "GET", RequestURI: "/v1.41/containers/json"}
	if !p.AuthZReq(get).Allow {
		t.Fatal("GET denied")
	}
	// A new policy that denies every request: the cached allow must not
	// survive the revision change.
	main := filepath.Join(dir, "authz", "main.rego")
	if err := os.WriteFile(main, []byte(`package authz

# METADATA
# entrypoint: true
decision := {"allow": false, "violations": [{"id": "x", "msg": "no reads"}], "dryrun": [], "exempted": []}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := policy.Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	engine.Swap(c2)
	if p.AuthZReq(get).Allow {
		t.Fatal("a cached allow outlived its policy revision")
	}
	// Within one revision, the second read is served from the cache: swap
	// in a compiled policy object with the same revision that would deny.
	p2 := New(t.Context(), policy.NewEngine(c), input.Builder{Lookup: testLookup}, nil, log, Options{ReadCacheTTL: time.Hour})
	if !p2.AuthZReq(get).Allow {
		t.Fatal("GET denied")
	}
	if _, ok := p2.reads.Get(func() string { k, _ := readKey(c.Revision, get); return k }()); !ok {
		t.Fatal("the read's decision was not cached")
	}
	if _, ok := readKey("r", create(`{}`)); ok {
		t.Error("a write is cacheable")
	}
	if _, ok := readKey("r", authorization.Request{RequestMethod: "GET", RequestURI: "/x", RequestBody: []byte("{}")}); ok {
		t.Error("a read with a body is cacheable")
	}
	k1, _ := readKey("r", authorization.Request{RequestMethod: "GET", RequestURI: "/x", User: "alice"})
	k2, _ := readKey("r", authorization.Request{RequestMethod: "GET", RequestURI: "/x", User: "bob"})
	if k1 == k2 {
		t.Error("users share a cache key")
	}
}
