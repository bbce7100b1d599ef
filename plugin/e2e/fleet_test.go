//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fleet plugin has a name (and socket) of its own, so that it never
// meets the package harness's plugin, which serves dockward.sock.
const (
	fleetPlugin = "dockward-fleet"
	fleetSocket = "/run/docker/plugins/" + fleetPlugin + ".sock"
	// fleetMaxDelay is the bundles' max_delay_seconds: a new bundle must be
	// in force within it (plus the time to download and compile).
	fleetMaxDelay = 2 * time.Second
	fleetSlack    = 4 * time.Second
)

// TestFleet is the README's "Fleets" section, end to end: a bundle server and
// a decision-log collector on loopback, `dockward policy bundle` building the
// bundles, `dockward serve --opa-config` in front of a dockerd of its own,
// and the docker CLI.
func TestFleet(t *testing.T) {
	start := time.Now()
	f := newFleet(t)
	f.serve(t, "main", fleetSocket, f.opaConfig(t, ""), "local")
	if _, err := f.startManagedDaemon(fleetPlugin); err != nil {
		t.Fatal(err)
	}
	if err := f.importImage(); err != nil {
		t.Fatal(err)
	}
	t.Logf("fleet: dockerd (%s) with --authorization-plugin=%s up in %s; dir %s", f.versions, fleetPlugin, time.Since(start).Round(time.Millisecond), f.dir)
	noReadOnly := without(hardened, "--read-only")

	t.Run("before any bundle the local policy decides", func(t *testing.T) {
		f.bundles.waitServed(t, "404", 1)
		d := expectDenied(t, f.docker(t, runArgs(noReadOnly, "true")...))
		if rec := f.auditByID(t, d.decisionID); rec == nil || strings.Contains(rec.PolicyRevision, "@") || len(rec.PolicyRevision) != 64 {
			t.Fatalf("decision %s: audit record %+v, want the local policy's sha256 as its revision", d.decisionID, rec)
		}
		f.metricsHave(t, `source="local"`)
	})

	t.Run("bundle A is enforced", func(t *testing.T) {
		f.publish(t, "dockward.tar.gz", f.policies(t, nil), "A")
		f.waitMetric(t, `dockward_bundle_info{name="dockward",revision="A"} 1`, fleetMaxDelay+fleetSlack)
		d := expectDenied(t, f.docker(t, runArgs(noReadOnly, "true")...))
		if len(d.rules) != 1 || d.rules[0] != "read_only_rootfs" {
			t.Errorf("denied for %v, want [read_only_rootfs]", d.rules)
		}
		if rec := f.auditByID(t, d.decisionID); rec == nil || !strings.HasPrefix(rec.PolicyRevision, "dockward@A/") {
			t.Errorf("decision %s: audit record %+v, want policy revision dockward@A/...", d.decisionID, rec)
		}
		f.runAllowed(t, hardened)
		f.metricsHave(t, `source="bundle"`, `dockward_bundle_last_request_success{name="dockward"} 1`,
			`dockward_bundle_last_activation_timestamp_seconds{name="dockward"}`, `dockward_bundle_last_successful_download_timestamp_seconds{name="dockward"}`)
		// The plugin polls with the bundle's ETag and the server answers
		// 304 Not Modified: nothing is downloaded twice.
		f.bundles.waitServed(t, "304", 1)
	})

	// The rollout: the same change, first in dryrun (audited, allowed), then
	// enforced. The hardened run uses --memory=128m; the new maximum is 64m.
	lower := map[string]any{"max_memory": 67108864}
	var enforcedID string
	t.Run("rollout in dryrun first", func(t *testing.T) {
		published := f.publish(t, "dockward.tar.gz", f.policies(t, map[string]any{"params": lower, "modes": map[string]any{"memory_limit": "dryrun"}}), "B-dryrun")
		f.waitMetric(t, `dockward_bundle_info{name="dockward",revision="B-dryrun"} 1`, fleetMaxDelay+fleetSlack)
		t.Logf("bundle B-dryrun in force %s after publishing", time.Since(published).Round(time.Millisecond))
		before := len(f.auditRecords(t))
		f.runAllowed(t, hardened)
		var found bool
		for _, rec := range f.auditRecords(t)[before:] {
			if rec.Decision == "dryrun-deny" && rec.has(rec.DryRun, "memory_limit") && strings.HasPrefix(rec.PolicyRevision, "dockward@B-dryrun/") {
				found = true
			}
		}
		if !found {
			t.Errorf("no dryrun-deny record for memory_limit under B-dryrun:\n%s", tail(f.auditLog, 3))
		}
	})

	t.Run("then enforce, within the polling interval", func(t *testing.T) {
		published := f.publish(t, "dockward.tar.gz", f.policies(t, map[string]any{"params": lower}), "C-enforce")
		var d denial
		for {
			r := f.docker(t, runArgs(hardened, "true")...)
			if r.code != 0 && strings.Contains(r.stderr, deniedPrefix) {
				d = expectDenied(t, r)
				break
			}
			if time.Since(published) > fleetMaxDelay+fleetSlack {
				t.Fatalf("the hardened run is still allowed %s after publishing C-enforce:\n%v", time.Since(published), r)
			}
			time.Sleep(200 * time.Millisecond)
		}
		took := time.Since(published)
		if len(d.rules) != 1 || d.rules[0] != "memory_limit" {
			t.Fatalf("denied for %v, want [memory_limit]", d.rules)
		}
		t.Logf("C-enforce denied the hardened run %s after publishing (max_delay_seconds %s)", took.Round(time.Millisecond), fleetMaxDelay)
		enforcedID = d.decisionID
	})

	t.Run("a corrupt bundle keeps the last good policy", func(t *testing.T) {
		off := logSize(t, f.pluginLog)
		f.bundles.put("dockward.tar.gz", []byte("this is not a gzipped tarball\n"))
		line := waitForLog(t, f.pluginLog, off, "policy bundle NOT activated", fleetMaxDelay+fleetSlack)
		t.Logf("plugin log: %s", line)
		f.metricsHave(t, `dockward_bundle_last_request_success{name="dockward"} 0`, `dockward_bundle_info{name="dockward",revision="C-enforce"} 1`)
		d := expectDenied(t, f.docker(t, runArgs(hardened, "true")...))
		if len(d.rules) != 1 || d.rules[0] != "memory_limit" {
			t.Errorf("with a corrupt bundle served, denied for %v, want C-enforce's [memory_limit]", d.rules)
		}
	})

	t.Run("a bundle failing dockward's checks keeps the last good policy", func(t *testing.T) {
		// What `opa build` would build but `dockward policy bundle` refuses:
		// a rule without its METADATA, in a tarball written by hand.
		dir := f.policies(t, nil)
		rule := filepath.Join(dir, "authz", "rules", "container", "allow_all", "allow_all.rego")
		if err := os.MkdirAll(filepath.Dir(rule), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(rule, []byte("package authz.rules.container.allow_all\n\ndeny contains 1 if false\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		off := logSize(t, f.pluginLog)
		f.bundles.put("dockward.tar.gz", tarball(t, dir, "D-unchecked"))
		line := waitForLog(t, f.pluginLog, off, "policy bundle REJECTED", fleetMaxDelay+fleetSlack)
		if !strings.Contains(line, "lacks METADATA") {
			t.Errorf("the rejection does not say why: %s", line)
		}
		t.Logf("plugin log: %s", line)
		f.metricsHave(t, `dockward_policy_last_reload_success 0`, `dockward_bundle_last_request_success{name="dockward"} 0`)
		d := expectDenied(t, f.docker(t, runArgs(hardened, "true")...))
		if len(d.rules) != 1 || d.rules[0] != "memory_limit" {
			t.Errorf("denied for %v, want C-enforce's [memory_limit]", d.rules)
		}
	})

	t.Run("decisions reach the collector, without secrets", func(t *testing.T) {
		if enforcedID == "" {
			// The enforce step failed, or its denial carried no decision
			// id: either way there is nothing to look for at the collector.
			t.Fatal("no decision id from the enforce step")
		}
		ev := f.collector.waitEvent(t, enforcedID, 10*time.Second)
		labels, _ := ev["labels"].(map[string]any)
		result, _ := ev["result"].(map[string]any)
		bundles, _ := ev["bundles"].(map[string]any)
		if ev["path"] != "authz/decision" || labels["fleet"] != "e2e" || labels["id"] == nil || result["allow"] != false ||
			fmt.Sprint(bundles["dockward"]) != "map[revision:C-enforce]" || !strings.HasPrefix(fmt.Sprint(ev["revision"]), "dockward@C-enforce/") {
			t.Errorf("event for %s: %v", enforcedID, ev)
		}
		if !strings.Contains(fmt.Sprint(result["violations"]), "memory_limit") {
			t.Errorf("event result lacks memory_limit: %v", result)
		}
		if custom, _ := ev["custom"].(map[string]any); custom["endpoint"] != "container.create" || custom["policy_source"] != "bundle" || custom["outcome"] != "deny" {
			t.Errorf("event custom %v", ev["custom"])
		}

		// An Env value through the CLI, credentials in headers through the API.
		const env, registryAuth, authz = "hunter2", "eyJwYXNzd29yZCI6Imh1bnRlcjMifQ==", "Bearer s3cr3t-t0ken"
		d := expectDenied(t, f.docker(t, runArgs(with(noReadOnly, "-e", "SECRET_TOKEN="+env), "true")...))
		req, err := http.NewRequest("POST", "http://docker/v1.41/containers/create", bytes.NewReader(createBody(`"Privileged":true`)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Registry-Auth", registryAuth)
		req.Header.Set("Authorization", authz)
		resp, err := f.apiClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := decisionIDRe.FindStringSubmatch(string(b))
		if resp.StatusCode < 400 || m == nil {
			t.Fatalf("API create with credential headers: %d %s", resp.StatusCode, b)
		}
		f.collector.waitEvent(t, d.decisionID, 10*time.Second)
		f.collector.waitEvent(t, m[1], 10*time.Second)
		raw := f.collector.all()
		for _, secret := range []string{env, registryAuth, "aHVudGVyMy", "hunter3", "s3cr3t-t0ken"} {
			if strings.Contains(raw, secret) {
				t.Errorf("the collector received %q", secret)
			}
		}
		if !strings.Contains(raw, "SECRET_TOKEN") {
			t.Errorf("the collector lacks the Env name SECRET_TOKEN (names are kept, values removed)")
		}
	})

	t.Run("collector down: decisions stay fast and audited", func(t *testing.T) {
		f.collector.down(t)
		const n = 200
		ids := make([]string, 0, n)
		var slowest time.Duration
		began := time.Now()
		for range n {
			st := time.Now()
			resp, err := f.apiClient().Post("http://docker/v1.41/containers/create", "application/json", bytes.NewReader(createBody(`"Privileged":true`)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			slowest = max(slowest, time.Since(st))
			m := decisionIDRe.FindStringSubmatch(string(b))
			if resp.StatusCode != http.StatusForbidden || m == nil {
				t.Fatalf("create: %d %s", resp.StatusCode, b)
			}
			ids = append(ids, m[1])
		}
		total := time.Since(began)
		t.Logf("%d denied creates through dockerd with the collector down: %s (slowest %s)", n, total.Round(time.Millisecond), slowest.Round(time.Millisecond))
		if slowest > 500*time.Millisecond || total > 30*time.Second {
			t.Errorf("decisions slowed by the collector being down: slowest %s, total %s", slowest, total)
		}
		audited := map[string]bool{}
		for _, rec := range f.auditRecords(t) {
			if rec.Decision == "deny" {
				audited[rec.DecisionID] = true
			}
		}
		for _, id := range ids {
			if !audited[id] {
				t.Fatalf("decision %s is not in the local audit log", id)
			}
		}
		f.waitMetric(t, `dockward_decision_log_uploads_total{result="failed"}`, 10*time.Second)

		// Back up: the buffer (10000 events) held every one of them.
		f.collector.up(t)
		deadline := time.Now().Add(20 * time.Second)
		for _, id := range ids {
			f.collector.waitEvent(t, id, time.Until(deadline))
		}
	})

	t.Run("signed bundles, bundle_fallback deny", func(t *testing.T) {
		f.signed(t)
	})
	t.Logf("fleet e2e on %s: %s", f.engine, time.Since(start).Round(time.Millisecond))
}

// fleetEnv is a daemon of the test's own (the managed test's helpers), a
// bundle server and a collector.
type fleetEnv struct {
	*managed
	bundles    *bundleServer
	collector  *collector
	bundleDir  string
	metricsURL string
}

func newFleet(t *testing.T) *fleetEnv {
	t.Helper()
	m, skip, err := newManaged(t)
	if skip != "" {
		t.Skip(skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	f := &fleetEnv{managed: m}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the plugin log:\n%s", tailNoDebug(f.pluginLog, 60))
		}
		if err := m.managedTeardown(); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	f.pluginLog = filepath.Join(f.dir, "plugin.log")
	if err := f.buildPlugin(); err != nil {
		t.Fatal(err)
	}
	src, err := policySource()
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, f.policyDir); err != nil {
		t.Fatal(err)
	}
	f.bundleDir = filepath.Join(f.dir, "www", "bundles")
	if err := os.MkdirAll(f.bundleDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.bundles = newBundleServer(t, f.bundleDir)
	f.collector = newCollector(t)
	return f
}

// opaConfig writes the OPA config of the README's fleet section; extra is
// appended (YAML).
func (f *fleetEnv) opaConfig(t *testing.T, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`services:
  bundles:
    url: %s/bundles
  collector:
    url: %s
labels:
  fleet: e2e
bundles:
  dockward:
    service: bundles
    resource: dockward.tar.gz
    polling:
      min_delay_seconds: 1
      max_delay_seconds: %d
decision_logs:
  service: collector
  reporting:
    buffer_type: event
    buffer_size_limit_events: 10000
    min_delay_seconds: 1
    max_delay_seconds: 2
%s`, f.bundles.url, f.collector.url, int(fleetMaxDelay/time.Second), extra)
	path := filepath.Join(f.dir, fmt.Sprintf("opa-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serve starts `dockward serve --opa-config` on socket and waits for it.
func (f *fleetEnv) serve(t *testing.T, name, socket, opaConfig, fallback string) (metricsURL string) {
	t.Helper()
	if err := freeSocket(socket); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	logPath := f.pluginLog
	if name != "main" {
		logPath = filepath.Join(f.dir, name+".log")
	}
	args := []string{"serve",
		"--socket", socket,
		"--policy-dir", f.policyDir,
		"--audit-log", filepath.Join(f.dir, "audit-"+name, "audit.log"),
		"--docker-host", "unix://" + f.dockerSock,
		"--metrics-addr", fmt.Sprintf(":%d", port),
		"--opa-config", opaConfig,
		"--bundle-fallback", fallback,
		"--owner-db", filepath.Join(f.dir, "owners-"+name+".db"), "--control-socket", filepath.Join(f.dir, "control-"+name+".sock")}
	// Bundles must be signed unless the operator opts out: the configs
	// without a signing block say so explicitly; the signed one does not.
	if b, err := os.ReadFile(opaConfig); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(string(b), "signing:") {
		args = append(args, "--bundle-allow-unsigned")
	}
	p, err := f.start("dockward-"+name, logPath, nil, f.dockward, args...)
	if err != nil {
		t.Fatal(err)
	}
	err = waitFor(15*time.Second, p, func() bool {
		c, err := net.DialTimeout("unix", socket, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if err != nil {
		t.Fatalf("dockward serve --opa-config: %v\n%s", err, tail(logPath, 30))
	}
	if name == "main" {
		f.auditLog = filepath.Join(f.dir, "audit-main", "audit.log")
		f.metricsURL = metricsURL
	}
	return metricsURL
}

// freeSocket fails when a live process serves socket and removes a stale one.
func freeSocket(socket string) error {
	if c, err := net.DialTimeout("unix", socket, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%s is served by another process; stop it first", socket)
	}
	if boundInProcNetUnix(socket) {
		return fmt.Errorf("%s is bound by another live process", socket)
	}
	if err := os.Remove(socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.MkdirAll(filepath.Dir(socket), 0o755)
}

// policies is a copy of the repository's policies with authz_config's
// params and modes merged from cfg.
func (f *fleetEnv) policies(t *testing.T, cfg map[string]any) string {
	t.Helper()
	src, err := policySource()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(f.dir, "policies-")
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, dir); err != nil {
		t.Fatal(err)
	}
	if len(cfg) == 0 {
		return dir
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
	for key, over := range cfg {
		cur, _ := data["authz_config"][key].(map[string]any)
		if cur == nil {
			cur = map[string]any{}
		}
		for k, v := range over.(map[string]any) {
			cur[k] = v
		}
		data["authz_config"][key] = cur
	}
	if b, err = json.MarshalIndent(data, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// publish builds dir with `dockward policy bundle` into the bundle server's
// directory, as an operator would, and returns when it was published.
func (f *fleetEnv) publish(t *testing.T, file, dir, revision string, extra ...string) time.Time {
	t.Helper()
	args := append([]string{"policy", "bundle", dir, "--output", filepath.Join(f.bundleDir, file), "--revision", revision}, extra...)
	out, err := exec.Command(f.dockward, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dockward %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Now()
}

func (f *fleetEnv) scrape(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (f *fleetEnv) metricsHave(t *testing.T, want ...string) {
	t.Helper()
	text := f.scrape(f.metricsURL)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("metrics lack %s:\n%s", w, metricLines(text))
		}
	}
}

func (f *fleetEnv) waitMetric(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	waitMetricAt(t, f.metricsURL, want, timeout)
}

func waitMetricAt(t *testing.T, url, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		var text string
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text = string(b)
			if strings.Contains(text, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the metrics after %s:\n%s", want, timeout, metricLines(text))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func metricLines(text string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "dockward_policy") || strings.HasPrefix(l, "dockward_bundle") || strings.HasPrefix(l, "dockward_decision_log") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func (f *fleetEnv) auditByID(t *testing.T, id string) *auditRecord {
	t.Helper()
	for _, rec := range f.auditRecords(t) {
		if rec.DecisionID == id {
			return &rec
		}
	}
	return nil
}

// signed runs a second plugin (on a socket of its own, driven over the
// authorization protocol) against signed bundles with bundle_fallback deny:
// nothing is allowed before a good bundle, an unsigned bundle and one signed
// with the wrong key are rejected, the right one is enforced.
func (f *fleetEnv) signed(t *testing.T) {
	right, rightPub := rsaKey(t, f.dir, "right")
	wrong, _ := rsaKey(t, f.dir, "wrong")
	pubPEM, err := os.ReadFile(rightPub)
	if err != nil {
		t.Fatal(err)
	}
	indented := "      " + strings.ReplaceAll(strings.TrimSpace(string(pubPEM)), "\n", "\n      ")
	cfg := f.opaConfig(t, "keys:\n  fleet:\n    algorithm: RS256\n    key: |\n"+indented+"\n")
	// Same config, but the bundle is signed.bundle.tar.gz and requires a
	// signature by the key "fleet".
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "resource: dockward.tar.gz", "resource: signed.tar.gz\n    signing:\n      keyid: fleet", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(f.dir, "signed.sock")
	metricsURL := f.serve(t, "signed", sock, cfg, "deny")
	ask := authzClient(sock)

	_, msg := ask(t, `{"Image":"`+testImage+`","User":"1000:1000","HostConfig":{"Privileged":true}}`)
	if !strings.Contains(msg, "no policy bundle activated yet from dockward from "+f.bundles.url+"/bundles/signed.tar.gz") {
		t.Fatalf("before any bundle (bundle_fallback deny): %q", msg)
	}

	signedLog := filepath.Join(f.dir, "signed.log")
	off := logSize(t, signedLog)
	f.publish(t, "signed.tar.gz", f.policies(t, nil), "S-unsigned")
	line := waitForLogAll(t, signedLog, off, fleetMaxDelay+fleetSlack, "policy bundle NOT activated", ".signatures.json")
	t.Logf("signed plugin log: %s", line)

	off = logSize(t, signedLog)
	f.publish(t, "signed.tar.gz", f.policies(t, nil), "S-wrong-key", "--signing-key", wrong, "--signing-alg", "RS256", "--signing-key-id", "fleet")
	line = waitForLogAll(t, signedLog, off, fleetMaxDelay+fleetSlack, "policy bundle NOT activated", "verification error")
	t.Logf("signed plugin log: %s", line)
	waitMetricAt(t, metricsURL, `dockward_bundle_last_request_success{name="dockward"} 0`, 5*time.Second)
	if allow, msg := ask(t, `{"Image":"`+testImage+`","User":"1000:1000","HostConfig":{"Privileged":true}}`); allow || !strings.Contains(msg, "no policy bundle activated yet") {
		t.Fatalf("after a bundle signed with the wrong key: allow=%v %q", allow, msg)
	}

	f.publish(t, "signed.tar.gz", f.policies(t, nil), "S-right-key", "--signing-key", right, "--signing-alg", "RS256", "--signing-key-id", "fleet")
	waitMetricAt(t, metricsURL, `dockward_bundle_info{name="dockward",revision="S-right-key"} 1`, fleetMaxDelay+fleetSlack)
	allow, msg := ask(t, `{"Image":"`+testImage+`","User":"1000:1000","HostConfig":{"Privileged":true}}`)
	if allow || !strings.Contains(msg, "[no_privileged]") {
		t.Fatalf("with the signed bundle in force: allow=%v %q, want a policy denial naming no_privileged", allow, msg)
	}
}

// waitForLogAll polls path from offset until one line contains every one
// of subs.
func waitForLogAll(t *testing.T, path string, offset int64, timeout time.Duration, subs ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
	lines:
		for _, line := range strings.Split(string(b[min(offset, int64(len(b))):]), "\n") {
			for _, s := range subs {
				if !strings.Contains(line, s) {
					continue lines
				}
			}
			return line
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line with all of %q in %s after %s:\n%s", subs, path, timeout, tailNoDebug(path, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func rsaKey(t *testing.T, dir, name string) (private, public string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	private, public = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub.pem")
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(private, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		t.Fatal(err)
	}
	return private, public
}

// authzClient asks the plugin at sock about a container create, as dockerd
// would (POST /AuthZPlugin.AuthZReq).
func authzClient(sock string) func(t *testing.T, body string) (bool, string) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	return func(t *testing.T, body string) (bool, string) {
		t.Helper()
		req, _ := json.Marshal(map[string]any{
			"RequestMethod": "POST", "RequestUri": "/v1.41/containers/create",
			"RequestHeaders": map[string]string{"Content-Type": "application/json"},
			"RequestBody":    []byte(body),
		})
		resp, err := c.Post("http://plugin/AuthZPlugin.AuthZReq", "application/json", bytes.NewReader(req))
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
}

// tarball writes dir as a bundle without any check: .manifest, .rego files
// (no tests) and data.json.
func tarball(t *testing.T, dir, revision string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	add("/.manifest", []byte(`{"revision":"`+revision+`","roots":[""]}`))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !(strings.HasSuffix(p, ".rego") && !strings.HasSuffix(p, "_test.rego")) && d.Name() != "data.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		add("/"+filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bundleServer is a plain static file server for dir (what nginx would be),
// with ETags, on loopback; it counts its answers by status.
type bundleServer struct {
	url   string
	dir   string
	mu    sync.Mutex
	codes map[string]int // "200", "304", "404"
}

func newBundleServer(t *testing.T, dir string) *bundleServer {
	t.Helper()
	s := &bundleServer{dir: dir, codes: map[string]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "http://" + l.Addr().String()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.StripPrefix("/bundles/", http.HandlerFunc(s.handle))}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *bundleServer) handle(w http.ResponseWriter, r *http.Request) {
	code := "404"
	defer func() {
		s.mu.Lock()
		s.codes[code]++
		s.mu.Unlock()
	}()
	name := filepath.Base(r.URL.Path)
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(b)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	rec := &statusRecorder{ResponseWriter: w, code: 200}
	http.ServeContent(rec, r, name, time.Time{}, bytes.NewReader(b))
	code = fmt.Sprint(rec.code)
}

// put replaces a file of the server atomically.
func (s *bundleServer) put(name string, b []byte) {
	tmp := filepath.Join(s.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err == nil {
		_ = os.Rename(tmp, filepath.Join(s.dir, name))
	}
}

func (s *bundleServer) waitServed(t *testing.T, code string, n int) {
	t.Helper()
	deadline := time.Now().Add(fleetMaxDelay + fleetSlack)
	for {
		s.mu.Lock()
		got := s.codes[code]
		s.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bundle server answered %s %d times, want %d (answers: %v)", code, got, n, s.codes)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// collector records decision-log uploads (POST /logs: a gzipped JSON array
// of OPA decision-log events); it can be taken down and brought back on
// the same port.
type collector struct {
	url    string
	addr   string
	mu     sync.Mutex
	srv    *http.Server
	raw    []string
	events map[string]map[string]any // by decision_id
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{events: map[string]map[string]any{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = l.Addr().String()
	c.url = "http://" + c.addr
	c.serve(l)
	t.Cleanup(func() { c.down(t) })
	return c
}

func (c *collector) serve(l net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /logs", func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var evs []map[string]any
		if err := json.Unmarshal(b, &evs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.raw = append(c.raw, string(b))
		for _, ev := range evs {
			c.events[fmt.Sprint(ev["decision_id"])] = ev
		}
		c.mu.Unlock()
	})
	c.mu.Lock()
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv := c.srv
	c.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

func (c *collector) down(t *testing.T) {
	c.mu.Lock()
	srv := c.srv
	c.srv = nil
	c.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (c *collector) up(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", c.addr)
	if err != nil {
		t.Fatalf("collector back on %s: %v", c.addr, err)
	}
	c.serve(l)
}

func (c *collector) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.raw, "\n")
}

func (c *collector) waitEvent(t *testing.T, id string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		ev, ok := c.events[id]
		n := len(c.events)
		c.mu.Unlock()
		if ok {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("decision %s not at the collector after %s (%d events there)", id, timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
