package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/internal/testutil"
	"github.com/dockward/dockward/plugin/policy"
)

// TestServeFleet runs `dockward serve --opa-config` in process against a
// bundle server and a collector on loopback: with bundle_fallback deny,
// nothing is allowed before the first bundle; once it is in force, it
// decides; every decision reaches the collector with the id the client was
// told, and neither Env values nor credential headers ever do.
func TestServeFleet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pol := testutil.CopyTree(t, "../policy/testdata/minimal")

	var mu sync.Mutex
	var bundleBody []byte
	bundles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := bundleBody
		mu.Unlock()
		if b == nil {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "b.tar.gz", time.Time{}, bytes.NewReader(b))
	}))
	defer bundles.Close()
	var received []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b, _ := io.ReadAll(zr)
		mu.Lock()
		received = append(received, string(b))
		mu.Unlock()
	}))
	defer collector.Close()

	opaCfg := filepath.Join(dir, "opa.yaml")
	writeFile(t, opaCfg, fmt.Sprintf(`services:
  bundles: {url: %q}
  collector: {url: %q}
bundles:
  authz:
    service: bundles
    resource: /b.tar.gz
    polling: {min_delay_seconds: 1, max_delay_seconds: 1}
decision_logs:
  service: collector
  reporting: {buffer_type: event, buffer_size_limit_events: 1000, min_delay_seconds: 1, max_delay_seconds: 1}
`, bundles.URL, collector.URL))

	sock := filepath.Join(dir, "p.sock")
	port := freePort(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := run(t, ctx, "serve", "--socket", sock, "--policy-dir", pol, "--audit-log", filepath.Join(dir, "a.log"),
			"--opa-config", opaCfg, "--bundle-fallback", "deny", "--bundle-allow-unsigned",
			"--metrics-addr", fmt.Sprintf(":%d", port), "--docker-host", "unix://"+filepath.Join(dir, "none.sock"))
		done <- err
	}()
	defer func() { cancel(); <-done }()
	waitUntil(t, 10*time.Second, "plugin socket", func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	plugin := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	// A privileged create carrying secrets where a careless logger would
	// copy them: an Env value and two credential headers.
	const secretEnv, secretAuth, secretRegistry = "hunter2", "Basic c2VjcmV0OnMzY3IzdA==", "eyJwYXNzd29yZCI6Imh1bnRlcjMifQ=="
	body := base64.StdEncoding.EncodeToString([]byte(`{"Image":"b","User":"1","Env":["SECRET=` + secretEnv + `"],"HostConfig":{"Privileged":true}}`))
	req := `{"RequestMethod":"POST","RequestUri":"/v1.41/containers/create","RequestHeaders":{"Content-Type":"application/json","Authorization":"` +
		secretAuth + `","X-Registry-Auth":"` + secretRegistry + `"},"RequestBody":"` + body + `"}`
	ask := func() (allow bool, msg string) {
		resp, err := plugin.Post("http://p/AuthZPlugin.AuthZReq", "application/json", strings.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Allow    bool
			Msg, Err string
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r.Allow, r.Msg + r.Err
	}

	allow, msg := ask()
	if allow || !strings.Contains(msg, "no policy bundle activated yet from authz from "+bundles.URL+"/b.tar.gz") {
		t.Fatalf("before any bundle: allow=%v %q, want the bundle_fallback deny", allow, msg)
	}
	healthz := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	if code := status(t, healthz); code != http.StatusServiceUnavailable {
		t.Errorf("healthz %d before any bundle with bundle_fallback deny, want 503", code)
	}

	var b bytes.Buffer
	if err := policy.BuildBundle(t.Context(), pol, &b, policy.BundleOptions{Revision: "v1"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	bundleBody = b.Bytes()
	mu.Unlock()
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	waitUntil(t, 10*time.Second, "bundle in force", func() bool {
		return strings.Contains(get(t, metricsURL), `dockward_policy_info{revision="authz@v1/`)
	})

	if code := status(t, healthz); code != http.StatusOK {
		t.Errorf("healthz %d with the bundle in force, want 200", code)
	}
	allow, msg = ask()
	m := regexp.MustCompile(`dockward decision ([0-9a-f-]+)`).FindStringSubmatch(msg)
	if allow || !strings.Contains(msg, "[no_privileged]") || m == nil {
		t.Fatalf("with the bundle: allow=%v %q, want a no_privileged denial with its decision id", allow, msg)
	}
	id := m[1]
	var all string
	waitUntil(t, 10*time.Second, "decision "+id+" at the collector", func() bool {
		mu.Lock()
		defer mu.Unlock()
		all = strings.Join(received, "\n")
		return strings.Contains(all, id)
	})
	for _, secret := range []string{secretEnv, secretAuth, "c2VjcmV0", secretRegistry, "hunter3"} {
		if strings.Contains(all, secret) {
			t.Errorf("the collector received %q", secret)
		}
	}
	var events []map[string]any
	for _, chunk := range strings.Split(all, "\n") {
		var evs []map[string]any
		if err := json.Unmarshal([]byte(chunk), &evs); err != nil {
			t.Fatalf("upload is not a JSON array of events: %v", err)
		}
		events = append(events, evs...)
	}
	var ev map[string]any
	for _, e := range events {
		if e["decision_id"] == id {
			ev = e
		}
	}
	in, _ := ev["input"].(map[string]any)
	res, _ := ev["result"].(map[string]any)
	bundleInfo, _ := ev["bundles"].(map[string]any)
	if ev["path"] != "authz/decision" || in == nil || res["allow"] != false || fmt.Sprint(bundleInfo["authz"]) != "map[revision:v1]" {
		t.Errorf("event %v", ev)
	}
	custom, _ := ev["custom"].(map[string]any)
	if _, ok := custom["user"]; !ok || fmt.Sprint(custom["groups"]) != "[]" {
		t.Errorf("the decision log lacks who asked (user, groups): custom %v", custom)
	}
	if !strings.Contains(fmt.Sprint(in), "SECRET") {
		t.Errorf("the input lacks the Env name SECRET (names are kept, values removed): %v", in)
	}
	// The denial before the bundle was logged too, without an input policy.
	if len(events) < 2 {
		t.Errorf("collector has %d events, want both decisions", len(events))
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// An OPA config whose bundles are not signed stops the start unless the
// operator opts out (bundle_allow_unsigned): a config file may not weaken
// the policy's provenance by leaving a block out.
func TestServeRefusesUnsignedBundles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opaCfg := filepath.Join(dir, "opa.yaml")
	writeFile(t, opaCfg, `services:
  bundles: {url: "http://127.0.0.1:1"}
bundles:
  authz: {service: bundles, resource: /b.tar.gz}
`)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := run(t, ctx, "serve", "--socket", filepath.Join(dir, "p.sock"), "--policy-dir", "/nonexistent",
		"--audit-log", filepath.Join(dir, "a.log"), "--opa-config", opaCfg)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "bundles authz accept unsigned policy") ||
		!strings.Contains(err.Error(), "bundle_allow_unsigned") {
		t.Fatalf("err = %v, want exit 2 refusing unsigned bundles", err)
	}
}
