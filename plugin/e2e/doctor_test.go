//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// doctorReport is `dockward doctor --json`.
type doctorReport struct {
	OK     bool `json:"ok"`
	Checks []struct {
		ID, Title, Status, Detail, Fix string
	} `json:"checks"`
}

func (r doctorReport) check(id string) (status, detail string) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status, c.Detail
		}
	}
	return "", ""
}

// sideDaemon starts another isolated dockerd of the harness's engine
// (authz names its authorization plugin, "" none) under its own directory,
// stopped with everything it started at t's cleanup.
func sideDaemon(t *testing.T, hs *harness, name, authz string, before func(d *harness)) *harness {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "dw-dr-")
	if err != nil {
		t.Fatal(err)
	}
	d := &harness{engine: hs.engine, dir: dir, dockerd: hs.dockerd, runc: hs.runc, binDir: hs.binDir, cli: hs.cli,
		dockward: hs.dockward, policyDir: hs.policyDir,
		dockerSock: filepath.Join(dir, "docker.sock"), daemonLog: filepath.Join(dir, "dockerd.log"),
		pluginLog: filepath.Join(dir, "plugin.log"), auditLog: filepath.Join(dir, "audit.log")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tailNoDebug(d.daemonLog, 30))
			t.Logf("%s plugin log:\n%s", name, tailNoDebug(d.pluginLog, 30))
		}
		if err := d.teardown(); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
	if before != nil {
		before(d)
	}
	if _, err := d.startDockerd(name, authz, ""); err != nil {
		t.Fatal(err)
	}
	return d
}

// canaryRecord is the part of an audit line the canary checks read.
type canaryRecord struct {
	DecisionID    string `json:"decision_id"`
	Decision      string `json:"decision"`
	Endpoint      string `json:"endpoint"`
	ContainerName string `json:"container_name"`
}

func canaryRecords(t *testing.T, path string) []canaryRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []canaryRecord
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r canaryRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

var decisionInDetail = regexp.MustCompile(`dockward decision ([0-9a-f-]{36})`)

// TestDoctor: `dockward doctor` passes against the package's plugin and
// daemon (the canary is refused by the plugin, creates nothing, and is
// audited as a dockward-canary-* create); it fails, naming the cause, when
// the plugin socket is served by nothing and when the daemon does not
// enforce (a second dockerd without --authorization-plugin).
func TestDoctor(t *testing.T) {
	hs := env(t)
	cfg := filepath.Join(hs.dir, "doctor.yaml") // never the host's /etc/dockward/config.yaml
	if err := os.WriteFile(cfg, []byte("log_level: info\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doctor := func(t *testing.T, host, sock string, extra ...string) (doctorReport, string, int) {
		t.Helper()
		args := append([]string{"doctor", "--config", cfg, "--socket", sock, "--plugin-name", pluginName,
			"--docker-host", host, "--audit-log", hs.auditLog}, extra...)
		text, _ := hs.dockwardCmd(t, args...)
		out, code := hs.dockwardCmd(t, append(args, "--json")...)
		var rep doctorReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("doctor --json: %v\n%s", err, out)
		}
		t.Logf("dockward %s:\n%s", strings.Join(args, " "), text)
		return rep, text, code
	}
	harnessHost := "unix://" + hs.dockerSock

	t.Run("passes on the harness", func(t *testing.T) {
		before := hs.containerCount(t)
		rep, text, code := doctor(t, harnessHost, pluginSocket)
		if code != 0 || !rep.OK {
			t.Fatalf("exit %d:\n%s", code, text)
		}
		for _, c := range rep.Checks {
			if c.Status == "fail" {
				t.Errorf("%s failed: %s", c.ID, c.Detail)
			}
		}
		st, detail := rep.check("daemon.enforcing")
		if st != "ok" || !strings.Contains(detail, "authorization denied by plugin "+pluginName) {
			t.Fatalf("daemon.enforcing %s: %s", st, detail)
		}
		if st, d := rep.check("daemon.configured"); st != "ok" || !strings.Contains(d, pluginName) {
			t.Errorf("daemon.configured %s: %s", st, d)
		}
		if st, d := rep.check("plugin.verdicts"); st != "ok" || !strings.Contains(d, "no_privileged") {
			t.Errorf("plugin.verdicts %s: %s", st, d)
		}
		if after := hs.containerCount(t); after != before {
			t.Errorf("doctor changed the container count: %d -> %d", before, after)
		}
		m := decisionInDetail.FindStringSubmatch(detail)
		if m == nil {
			t.Fatalf("no decision id in %q", detail)
		}
		found := false
		for _, rec := range canaryRecords(t, hs.auditLog) {
			if rec.DecisionID == m[1] {
				found = true
				if !strings.HasPrefix(rec.ContainerName, "dockward-canary-") || rec.Decision != "deny" || rec.Endpoint != "container.create" {
					t.Errorf("the canary's audit record: %+v", rec)
				}
			}
		}
		if !found {
			t.Errorf("no audit record of the canary's decision %s", m[1])
		}
	})

	t.Run("fails when the plugin is down", func(t *testing.T) {
		rep, text, code := doctor(t, harnessHost, filepath.Join(hs.dir, "nothing.sock"))
		if code != 1 || rep.OK {
			t.Fatalf("exit %d, want 1:\n%s", code, text)
		}
		if st, d := rep.check("plugin.answers"); st != "fail" || !strings.Contains(d, "the plugin is not running") {
			t.Errorf("plugin.answers %s: %s", st, d)
		}
		if !strings.Contains(text, "FAIL  plugin answers") || !strings.Contains(text, "fix: start it") {
			t.Errorf("text output does not name the cause and the fix:\n%s", text)
		}
	})

	t.Run("fails when dockerd does not enforce", func(t *testing.T) {
		bare := sideDaemon(t, hs, "dockerd-noauthz", "", nil)
		rep, text, code := doctor(t, "unix://"+bare.dockerSock, pluginSocket)
		if code != 1 || rep.OK {
			t.Fatalf("exit %d, want 1:\n%s", code, text)
		}
		if st, d := rep.check("daemon.enforcing"); st != "fail" || !strings.Contains(d, "not enforcing") {
			t.Errorf("daemon.enforcing %s: %s", st, d)
		}
		if st, d := rep.check("daemon.configured"); st != "fail" || !strings.Contains(d, "authorization plugins: none") {
			t.Errorf("daemon.configured %s: %s", st, d)
		}
		// The plugin itself is fine: doctor says the daemon is the cause.
		if st, _ := rep.check("plugin.verdicts"); st != "ok" {
			t.Errorf("plugin.verdicts %s", st)
		}
		if !strings.Contains(text, "not enforcing") {
			t.Errorf("text output does not say not enforcing:\n%s", text)
		}
		if n := bare.containerCount(t); n != 0 {
			t.Errorf("the canary left %d containers on the daemon that does not enforce", n)
		}
	})
}

// TestServeCanary: a second `dockward serve` with --canary-interval and
// --metrics-addr, in front of its own dockerd, exports dockward_canary_ok 1
// (the canary goes through dockerd and back into the same serve process as
// an AuthZReq); the same serve pointed at a daemon without the plugin
// exports 0 and logs ENFORCEMENT OFF at error.
func TestServeCanary(t *testing.T) {
	hs := env(t)
	name := pluginName + "-canary" // not "-c": dockward-c is a checkout's plugin name
	sock := "/run/docker/plugins/" + name + ".sock"
	if err := checkSocketFree(sock); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	startServe := func(t *testing.T, d *harness, host string) *proc {
		t.Helper()
		p, err := d.start("dockward-"+name, d.pluginLog, nil, d.dockward, "serve",
			"--socket", sock, "--policy-dir", d.policyDir, "--audit-log", d.auditLog,
			"--docker-host", host, "--canary-interval", "1s", "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	canaryOK := func(t *testing.T, want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var last string
		for time.Now().Before(deadline) {
			if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port)); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				last = ""
				for _, l := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(l, "dockward_canary_") {
						last += l + "\n"
					}
				}
				if strings.Contains(string(b), "\ndockward_canary_ok "+want+"\n") &&
					strings.Contains(string(b), "\ndockward_canary_last_run_timestamp_seconds ") {
					t.Logf("scraped:\n%s", last)
					return
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("dockward_canary_ok never %s; last scrape:\n%s", want, last)
	}

	var serve *proc
	started := time.Now()
	d := sideDaemon(t, hs, "dockerd-canary", name, func(d *harness) {
		// The plugin first: dockerd refuses every call until it answers.
		serve = startServe(t, d, "unix://"+d.dockerSock)
	})
	t.Run("enforcing daemon: 1", func(t *testing.T) {
		canaryOK(t, "1")
		line := waitForLog(t, d.pluginLog, 0, "enforcement canary: dockerd refused the canary create", 10*time.Second)
		if !strings.Contains(line, "authorization denied by plugin "+name) {
			t.Errorf("log: %s", line)
		}
		t.Logf("plugin log: %s", line)
		if n := d.containerCount(t); n != 0 {
			t.Errorf("canaries left %d containers", n)
		}
		// One audit record per canary, each a denied create named
		// dockward-canary-*: nothing else was denied on this daemon.
		recs := canaryRecords(t, d.auditLog)
		limit := int(time.Since(started)/time.Second) + 2
		if len(recs) == 0 || len(recs) > limit {
			t.Errorf("%d audit records after %s at one canary a second", len(recs), time.Since(started).Round(time.Second))
		}
		for _, r := range recs {
			if r.Decision != "deny" || r.Endpoint != "container.create" || !strings.HasPrefix(r.ContainerName, "dockward-canary-") {
				t.Errorf("audit record %+v is not a canary's", r)
			}
		}
	})
	t.Run("daemon without the plugin: 0, logged at error", func(t *testing.T) {
		bare := sideDaemon(t, hs, "dockerd-canary-bare", "", nil)
		serve.stop(10 * time.Second)
		off := logSize(t, d.pluginLog)
		serve = startServe(t, d, "unix://"+bare.dockerSock)
		canaryOK(t, "0")
		line := waitForLog(t, d.pluginLog, off, "ENFORCEMENT OFF", 10*time.Second)
		if !strings.Contains(line, "level=error") || !strings.Contains(line, "not enforcing") {
			t.Errorf("log: %s", line)
		}
		t.Logf("plugin log: %s", line)
		if n := bare.containerCount(t); n != 0 {
			t.Errorf("canaries left %d containers on the bare daemon", n)
		}
	})
}

// TestDoctorIdentityChecks runs doctor's identity checks against a real
// dockerd with a TLS listener on loopback (startTLSDaemon) but no broker:
// the identity layout points the broker socket at dockerd's own unix
// socket. The TLS listener passes (loopback, no other TCP address for that
// dockerd, a client without a certificate refused); dockerd's unix socket
// fails as a raw socket (root:docker 0660 is not root-only); the PKI fails
// (that CA's key is not kept); and a real non-root user's canary, sent as
// that user through the socket, is found in the audit log with no user —
// which doctor reports as dockerd receiving no identity. With the broker
// (issue 12, point 1) the same run names the user.
func TestDoctorIdentityChecks(t *testing.T) {
	hs := env(t)
	alice := localUser(t, "alice", "docker")
	d, err := startTLSDaemon(t, hs)
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("stop the TLS daemon: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("TLS daemon: %v", err)
	}
	// alice must reach the socket, as she would the broker's.
	if err := os.Chmod(d.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(d.dir, "doctor.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("identity:\n  socket: %s\n  upstream: tcp://%s\n  raw_socket: %s\n  pki_dir: %s\n",
		d.dockerSock, d.addr, d.dockerSock, d.certs)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := hs.dockwardCmd(t, "doctor", "--json", "--config", cfg, "--socket", pluginSocket, "--plugin-name", pluginName,
		"--docker-host", "unix://"+d.dockerSock, "--audit-log", hs.auditLog, "--as-user", alice.Username,
		"--daemon-json", filepath.Join(d.dir, "daemon.json"))
	var rep doctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	text, _ := hs.dockwardCmd(t, "doctor", "--config", cfg, "--socket", pluginSocket, "--plugin-name", pluginName,
		"--docker-host", "unix://"+d.dockerSock, "--audit-log", hs.auditLog, "--as-user", alice.Username,
		"--daemon-json", filepath.Join(d.dir, "daemon.json"))
	t.Logf("doctor with identity on, no broker:\n%s", text)
	if code != 1 || rep.OK {
		t.Errorf("exit %d, want 1", code)
	}
	for _, c := range []struct{ id, status, want string }{
		{"daemon.enforcing", "ok", "authorization denied by plugin " + pluginName},
		{"identity.upstream", "ok", d.addr + " is loopback"},
		{"identity.raw_socket", "fail", "lets group"},
		{"identity.pki", "fail", "ca-key.pem"},
		{"identity.caller", "fail", "as " + alice.Username + " through " + d.dockerSock + " was audited with no user"},
	} {
		if st, detail := rep.check(c.id); st != c.status || !strings.Contains(detail, c.want) {
			t.Errorf("%s: %s %q, want %s with %q", c.id, st, detail, c.status, c.want)
		}
	}
}
