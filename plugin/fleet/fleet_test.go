package fleet

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/plugins/bundle"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/metrics"
	"github.com/dockward/dockward/plugin/policy"
)

const minimal = "../policy/testdata/minimal"

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, config, wantErr string
		wantBytes             bool // buffer_size_limit_bytes injected
	}{
		{"bundles only", `{"services":{"s":{"url":"http://x"}},"bundles":{"authz":{"service":"s","resource":"b.tar.gz"}}}`, "", false},
		{"yaml", "services:\n  s:\n    url: http://x\nbundles:\n  authz:\n    service: s\n    resource: b.tar.gz\n", "", false},
		{"size buffer gets a bound", `{"services":{"s":{"url":"http://x"}},"decision_logs":{"service":"s"}}`, "", true},
		{"event buffer is bounded by OPA", `{"services":{"s":{"url":"http://x"}},"decision_logs":{"service":"s","reporting":{"buffer_type":"event"}}}`, "", false},
		{"operator's bound kept", `{"services":{"s":{"url":"http://x"}},"decision_logs":{"service":"s","reporting":{"buffer_size_limit_bytes":1000}}}`, "", false},
		{"rate limit leaves the size buffer unbounded", `{"services":{"s":{"url":"http://x"}},"decision_logs":{"service":"s","reporting":{"max_decisions_per_second":10}}}`, "max_decisions_per_second", false},
		{"discovery", `{"services":{"s":{"url":"http://x"}},"discovery":{"service":"s"}}`, "discovery is not supported", false},
		{"custom plugins", `{"plugins":{"x":{}},"bundles":{}}`, "custom plugins are not supported", false},
		{"status", `{"status":{"service":"s"},"bundles":{}}`, "scrape dockward's /metrics", false},
		{"unknown key", `{"server":{},"bundles":{}}`, `"server" is not supported`, false},
		{"decision log plugin", `{"decision_logs":{"plugin":"x"}}`, "decision_logs.plugin", false},
		{"nothing to do", `{"services":{"s":{"url":"http://x"}}}`, "neither bundles nor decision_logs", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseConfig([]byte(tt.config))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			injected := strings.Contains(string(c.raw), fmt.Sprintf(`"buffer_size_limit_bytes":%d`, DefaultBufferBytes))
			if injected != tt.wantBytes || (len(c.Injected) > 0) != tt.wantBytes {
				t.Errorf("buffer bound injected = %v (%v), want %v: %s", injected, c.Injected, tt.wantBytes, c.raw)
			}
		})
	}
}

// bundleServer serves one mutable file with an ETag, as any static server
// does, and counts what it answered.
type bundleServer struct {
	*httptest.Server
	mu            sync.Mutex
	body          []byte // nil: 404
	full, notMod  int
	lastIfNoMatch string
}

func newBundleServer(t *testing.T) *bundleServer {
	s := &bundleServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body := s.body
		s.lastIfNoMatch = r.Header.Get("If-None-Match")
		s.mu.Unlock()
		if body == nil {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(body)
		rec := httptest.NewRecorder()
		rec.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		http.ServeContent(rec, r, "b.tar.gz", time.Time{}, bytes.NewReader(body))
		s.mu.Lock()
		if rec.Code == http.StatusNotModified {
			s.notMod++
		} else {
			s.full++
		}
		s.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *bundleServer) publish(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = b
}

func (s *bundleServer) counts() (full, notMod int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full, s.notMod
}

func build(t *testing.T, rev string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := policy.BuildBundle(t.Context(), minimal, &buf, policy.BundleOptions{Revision: rev}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// unchecked writes a bundle without dockward's checks: what `opa build`
// would happily build.
func unchecked(t *testing.T, rev string, files map[string]string) []byte {
	t.Helper()
	b := opabundle.Bundle{Manifest: opabundle.Manifest{Revision: rev}, Data: map[string]any{}}
	for p, src := range files {
		m, err := ast.ParseModule(p, src)
		if err != nil {
			t.Fatal(err)
		}
		b.Modules = append(b.Modules, opabundle.ModuleFile{URL: p, Path: p, Raw: []byte(src), Parsed: m})
	}
	var buf bytes.Buffer
	if err := opabundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func quietLog() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func startFleet(t *testing.T, config string, engine *policy.Engine, m *metrics.Metrics) *Fleet {
	t.Helper()
	c, err := ParseConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	// These tests serve unsigned bundles: the operator's opt-out (the
	// refusal without it is TestNewRefusesUnsignedBundles).
	f, err := New(Options{Config: c, Log: quietLog(), Metrics: m, ID: "host-1", AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := f.Start(ctx, engine); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		f.Stop(sctx)
		cancel()
	})
	return f
}

// TestBundleLifecycle polls a bundle server by hand (trigger: manual): the
// local policy decides until a bundle is in force; a bundle that fails
// dockward's checks and a corrupt download keep the last good policy; a good
// one replaces it. The metrics follow.
func TestBundleLifecycle(t *testing.T) {
	t.Parallel()
	srv := newBundleServer(t)
	local, err := policy.Load(t.Context(), minimal)
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(local)
	m := metrics.New()
	f := startFleet(t, fmt.Sprintf(`{"services":{"s":{"url":%q}},"bundles":{"authz":{"service":"s","resource":"/b.tar.gz","trigger":"manual"}}}`, srv.URL), engine, m)
	poll := func() { _ = bundle.Lookup(f.manager).Trigger(t.Context()) }
	inForce := func(want string) {
		t.Helper()
		if c := engine.Current(); !strings.HasPrefix(c.Revision, want) {
			t.Fatalf("policy in force %s %q, want %q", c.Source, c.Revision, want)
		}
	}
	metric := func(want string, present bool) {
		t.Helper()
		if text := scrape(t, m); strings.Contains(text, want) != present {
			t.Fatalf("metrics contain %q = %v, want %v:\n%s", want, !present, present, grepLines(text, "dockward_bundle", "dockward_policy"))
		}
	}

	poll() // 404
	if engine.Current() != local {
		t.Fatalf("nothing served, yet %s is in force", engine.Current().Revision)
	}
	metric(`dockward_bundle_last_request_success{name="authz"} 0`, true)

	srv.publish(build(t, "A"))
	poll()
	inForce("authz@A/")
	metric(`dockward_policy_info{revision="authz@A/`, true)
	metric(`source="bundle"`, true)
	metric(`dockward_bundle_info{name="authz",revision="A"} 1`, true)
	metric(`dockward_bundle_last_request_success{name="authz"} 1`, true)
	metric(`dockward_bundle_last_activation_timestamp_seconds{name="authz"}`, true)

	poll() // unchanged: the plugin sends the ETag, the server answers 304
	if _, notMod := srv.counts(); notMod != 1 {
		t.Fatalf("304 answers = %d after a second poll of the same bundle, want 1", notMod)
	}
	inForce("authz@A/")

	srv.publish(unchecked(t, "bad", map[string]string{
		"/authz/main.rego":                "package authz\ndecision := {\"allow\": true, \"violations\": set(), \"dryrun\": set(), \"exempted\": set()}\n",
		"/authz/rules/container/y/y.rego": "package authz.rules.container.y\ndeny contains 1 if false\n",
	}))
	poll()
	inForce("authz@A/") // OPA activated it, dockward's METADATA check refused it
	metric(`dockward_bundle_last_request_success{name="authz"} 0`, true)
	metric(`dockward_policy_last_reload_success 0`, true)
	poll() // 304 on the refused bundle: still refused, still failing
	inForce("authz@A/")
	metric(`dockward_bundle_last_request_success{name="authz"} 0`, true)

	srv.publish([]byte("this is not a gzipped tarball"))
	poll()
	inForce("authz@A/")
	metric(`dockward_bundle_last_request_success{name="authz"} 0`, true)

	srv.publish(build(t, "B"))
	poll()
	inForce("authz@B/")
	metric(`dockward_bundle_last_request_success{name="authz"} 1`, true)
	metric(`dockward_policy_last_reload_success 1`, true)
}

func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// collector records decision-log uploads (gzip JSON arrays of events).
type collector struct {
	*httptest.Server
	mu     sync.Mutex
	events []map[string]any
	raw    []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b, _ := io.ReadAll(zr)
		var evs []map[string]any
		if err := json.Unmarshal(b, &evs); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		c.mu.Lock()
		c.events = append(c.events, evs...)
		c.raw = append(c.raw, string(b))
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) snapshot() ([]map[string]any, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.events...), strings.Join(c.raw, "\n")
}

func waitDrained(t *testing.T, f *Fleet, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, n := f.logs.BufferSize(); n >= want && len(f.queue) == 0 {
			return
		}
		if time.Now().After(deadline) {
			_, n := f.logs.BufferSize()
			t.Fatalf("decision-log buffer holds %d, want %d", n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDecisionLogUpload: a decision reaches the collector in OPA's event
// format, with dockward's path, revision and bundle.
func TestDecisionLogUpload(t *testing.T) {
	t.Parallel()
	col := newCollector(t)
	local, err := policy.Load(t.Context(), minimal)
	if err != nil {
		t.Fatal(err)
	}
	f := startFleet(t, fmt.Sprintf(`{"services":{"c":{"url":%q}},"labels":{"site":"lab"},"decision_logs":{"service":"c","reporting":{"trigger":"manual","buffer_type":"event"}}}`, col.URL),
		policy.NewEngine(local), metrics.New())
	f.LogDecision(Decision{
		ID: "d-1", Time: time.Now(), Input: map[string]any{"route": map[string]any{"endpoint": "container.create"}},
		Result: map[string]any{"allow": false}, Revision: "authz@A/abc", Bundles: map[string]string{"authz": "A"},
		Custom: map[string]any{"endpoint": "container.create"},
	})
	waitDrained(t, f, 1)
	if err := f.logs.Trigger(t.Context()); err != nil {
		t.Fatalf("upload: %v", err)
	}
	evs, _ := col.snapshot()
	if len(evs) != 1 {
		t.Fatalf("collector received %d events, want 1", len(evs))
	}
	ev := evs[0]
	labels, _ := ev["labels"].(map[string]any)
	bundles, _ := ev["bundles"].(map[string]any)
	if ev["decision_id"] != "d-1" || ev["path"] != DecisionPath || labels["id"] != "host-1" || labels["site"] != "lab" ||
		fmt.Sprint(bundles["authz"]) != "map[revision:A]" || ev["timestamp"] == nil {
		t.Errorf("event %v", ev)
	}
	if res, _ := ev["result"].(map[string]any); res["allow"] != false {
		t.Errorf("result %v", ev["result"])
	}
}

// TestDecisionLogBounded: with the collector down, the buffer keeps at most
// its bound (older events dropped and counted), and LogDecision never waits;
// a full queue drops and counts too. (Uploads are manual, so none is tried
// during the test: a failed upload requeues its events as one chunk.)
func TestDecisionLogBounded(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close() // nobody listens: the collector is down
	local, err := policy.Load(t.Context(), minimal)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	f := startFleet(t, fmt.Sprintf(`{"services":{"c":{"url":%q}},"decision_logs":{"service":"c","reporting":{"buffer_type":"event","buffer_size_limit_events":5,"trigger":"manual"}}}`, down),
		policy.NewEngine(local), m)
	start := time.Now()
	for i := range 20 {
		f.LogDecision(Decision{ID: fmt.Sprint("d-", i), Time: time.Now(), Result: map[string]any{"allow": false}})
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("20 LogDecision calls took %s with the collector down", took)
	}
	waitDrained(t, f, 5)
	if _, n := f.logs.BufferSize(); n != 5 {
		t.Errorf("buffer holds %d events, want its bound 5", n)
	}
	if text := scrape(t, m); !strings.Contains(text, `dockward_decision_log_dropped_total{reason="buffer_full"} 15`) ||
		!strings.Contains(text, `dockward_decision_log_buffered{unit="events"} 5`) {
		t.Errorf("metrics:\n%s", grepLines(text, "dockward_decision_log"))
	}

	// The queue in front of the plugin: not drained (never started), so the
	// second decision finds it full.
	c, err := ParseConfig([]byte(fmt.Sprintf(`{"services":{"c":{"url":%q}},"decision_logs":{"service":"c"}}`, down)))
	if err != nil {
		t.Fatal(err)
	}
	m2 := metrics.New()
	g, err := New(Options{Config: c, Log: quietLog(), Metrics: m2, QueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	g.LogDecision(Decision{ID: "a"})
	g.LogDecision(Decision{ID: "b"})
	if text := scrape(t, m2); !strings.Contains(text, "dockward_decision_log_queue_dropped_total 1") {
		t.Errorf("queue drop not counted:\n%s", grepLines(text, "dockward_decision_log"))
	}
}

// Bundles must be signed unless the operator opts out: whoever answers for
// the bundle server otherwise decides every host's policy.
func TestNewRefusesUnsignedBundles(t *testing.T) {
	t.Parallel()
	const svc = `"services":{"s":{"url":"http://127.0.0.1:1"}}`
	const keys = `"keys":{"fleet":{"algorithm":"HS256","key":"secret"}}`
	tests := []struct {
		name, config  string
		allowUnsigned bool
		wantErr       string
	}{
		{"no signing block", `{` + svc + `,"bundles":{"authz":{"service":"s","resource":"b.tar.gz"}}}`, false, "bundles authz accept unsigned policy"},
		{"keys but no signing block (OPA then verifies only a signature that is there)", `{` + svc + `,` + keys + `,"bundles":{"authz":{"service":"s","resource":"b.tar.gz"}}}`, false, "bundles authz accept unsigned policy"},
		{"unsigned delta bundles allowed", `{` + svc + `,` + keys + `,"bundles":{"authz":{"service":"s","resource":"b.tar.gz","signing":{"keyid":"fleet","allow_unsigned_delta_bundles":true}}}}`, false, "accept unsigned policy"},
		{"one of two unsigned", `{` + svc + `,` + keys + `,"bundles":{"a":{"service":"s","resource":"a.tar.gz","signing":{"keyid":"fleet"}},"b":{"service":"s","resource":"b.tar.gz"}}}`, false, "bundles b accept"},
		{"signed", `{` + svc + `,` + keys + `,"bundles":{"authz":{"service":"s","resource":"b.tar.gz","signing":{"keyid":"fleet"}}}}`, false, ""},
		{"unsigned, opted out", `{` + svc + `,"bundles":{"authz":{"service":"s","resource":"b.tar.gz"}}}`, true, ""},
		{"decision logs only", `{` + svc + `,"decision_logs":{"service":"s"}}`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseConfig([]byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			_, err = New(Options{Config: c, Log: quietLog(), AllowUnsigned: tt.allowUnsigned})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
