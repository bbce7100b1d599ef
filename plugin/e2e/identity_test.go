//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/pki"
)

// broker is a `dockward broker` process the test started.
type brokerProc struct {
	p    *proc
	sock string
	log  string
}

// startBroker runs the built dockward broker in front of upstream, its
// socket (root:docker 0660) in a directory every user can reach.
func (d *tlsDaemon) startBroker(t *testing.T, name, upstream string) *brokerProc {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "dw-brk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(d.dir, "config.yaml")
	b := &brokerProc{sock: filepath.Join(dir, "docker.sock"), log: filepath.Join(d.dir, name+".log")}
	b.p, err = d.start(name, b.log, nil, d.dockward, "broker", "--config", cfg, "--socket", b.sock, "--socket-group", "docker",
		"--upstream", upstream, "--pki-dir", d.certs, "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(15*time.Second, b.p, func() bool {
		st, err := os.Stat(b.sock)
		return err == nil && st.Mode().Type() == os.ModeSocket && st.Mode().Perm() == 0o660
	}); err != nil {
		t.Fatalf("broker: %v\n%s", err, tail(b.log, 20))
	}
	return b
}

// startIdentityPlugin serves plugin for d, as install.sh --identity sets it
// up: the repository's policies with edit applied to their data.json, its
// lookups on d's raw socket, and its audit log (allows too: who ran what is
// the point of identity), ownership store and control socket in d's
// directory, never the host's /var/lib/dockward or /run/dockward.
func (d *tlsDaemon) startIdentityPlugin(plugin string, edit func(cfg map[string]any)) (*ownerPlugin, error) {
	src, err := policySource()
	if err != nil {
		return nil, err
	}
	d.policyDir = filepath.Join(d.dir, "policies")
	if err := copyTree(src, d.policyDir); err != nil {
		return nil, err
	}
	if err := editPolicyData(d.policyDir, edit); err != nil {
		return nil, err
	}
	op := &ownerPlugin{d: d, name: plugin, socket: "/run/docker/plugins/" + plugin + ".sock", policyDir: d.policyDir,
		log: filepath.Join(d.dir, "plugin.log"), db: filepath.Join(d.dir, "owners.db"), control: filepath.Join(d.dir, "control.sock"),
		extra: []string{"--audit-allows"}}
	if err := checkSocketFree(op.socket); err != nil {
		return nil, err
	}
	// Where ownerPlugin.args puts it; d.editData reloads through op.log.
	d.auditLog, d.pluginLog = filepath.Join(d.dir, "audit", "audit.log"), op.log
	return op, op.start()
}

// userO runs the docker CLI as u against sock, with stdin and extra env.
func (d *tlsDaemon) userO(t *testing.T, u *user.User, sock, stdin string, env []string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := d.asUser(ctx, t, u, sock, args...)
	cmd.Env = append(cmd.Env, env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return runOutcome(t, ctx, cmd, u.Username+": "+strings.Join(args, " "))
}

func runOutcome(t *testing.T, ctx context.Context, cmd *exec.Cmd, what string) outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	o := outcome{via: "cli", what: what, msg: stderr.String() + stdout.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		o.code = ee.ExitCode()
	default:
		t.Fatalf("%s: %v (%s)", what, err, stderr.String())
	}
	return o
}

// userAPI sends one API request as u through sock (curl, run as u): what
// an SDK does, for the calls the CLI never makes on their own.
func userAPI(t *testing.T, u *user.User, sock, method, path, body string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	verb := []string{"-X", method}
	if method == "HEAD" {
		verb = []string{"-I"} // -X HEAD would wait for the body Content-Length announces
	}
	args := append(append([]string{"-u", u.Username, "--", "curl", "-sS", "--max-time", "30", "--unix-socket", sock}, verb...),
		"-H", "Content-Type: application/json", "-w", "\n%{http_code}", "http://docker"+path)
	if body != "" {
		args = append(args, "-d", body)
	}
	o := outcome{via: "http", what: u.Username + ": " + method + " " + path}
	out, err := exec.CommandContext(ctx, "runuser", args...).CombinedOutput()
	i := bytes.LastIndexByte(bytes.TrimRight(out, "\n"), '\n')
	if err != nil || i < 0 {
		t.Fatalf("%s: %v: %s", o.what, err, out)
	}
	o.msg = string(out[:i])
	fmt.Sscan(string(out[i+1:]), &o.status) //nolint:errcheck // 0 fails every check
	return o
}

// id is the first line of a successful CLI outcome (a container id).
func firstLine(t *testing.T, o outcome) string {
	t.Helper()
	if !o.succeeded() {
		t.Fatalf("refused: %v", o)
	}
	return strings.TrimSpace(strings.Split(strings.TrimSpace(o.msg), "\n")[0])
}

// writeClientCert writes c (cert and key PEM) under dir as name-*.pem.
func writeClientCert(t *testing.T, dir, name string, c *tls.Certificate) (string, string) {
	t.Helper()
	kDER, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, name+"-cert.pem"), filepath.Join(dir, name+"-key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kDER}), 0o600)
	return cert, key
}

// TestIdentityBroker (issue 12 points 1 to 5, through the broker): local
// users reach dockerd only through `dockward broker`, which names them from
// SO_PEERCRED and presents a client certificate of dockward's CA with their
// name as CN; the plugin's audit names them; owner_only keeps bob's exec,
// stop and rm off alice's container; carol in ci is judged at baseline
// and alice at restricted; an exemption for ci applies and expires;
// hijacked and streamed calls work through it; a CN signed by another CA
// is refused by dockerd's TLS; users outside the docker group cannot
// connect; the raw socket is root only; dockward doctor passes; a dead
// broker or an unreachable dockerd is an error for the caller, never a
// fallback.
func TestIdentityBroker(t *testing.T) {
	hs := env(t)
	start := time.Now()
	admin := localName("ops-admin")
	ci := localName("ci") // carol's group, made by localUser below
	// Its own plugin, as install.sh --identity sets it up: its lookups go
	// to the raw socket (the package's plugin asks the package's daemon).
	idPlugin := pluginName + "-id"
	var op *ownerPlugin
	d, err := startTLSDaemonWith(t, hs, tlsOptions{identity: true, plugin: idPlugin, beforeDockerd: func(d *tlsDaemon) (err error) {
		op, err = d.startIdentityPlugin(idPlugin, func(cfg map[string]any) {
			cfg["admins"] = []any{admin}
			cfg["levels"] = map[string]any{"default": "restricted", "groups": map[string]any{ci: "baseline"}}
		})
		return err
	}})
	t.Cleanup(func() {
		if t.Failed() && d != nil {
			t.Logf("TLS dockerd log:\n%s", tailNoDebug(d.daemonLog, 30))
			t.Logf("plugin log:\n%s", tailNoDebug(d.pluginLog, 20))
			for _, l := range []string{"broker", "broker-nodockerd"} {
				t.Logf("%s log:\n%s", l, tail(filepath.Join(d.dir, l+".log"), 20))
			}
		}
		if err := d.stop(); err != nil {
			t.Errorf("stop the TLS daemon: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("isolated dockerd with dockward's PKI: %v", err)
	}
	alice := localUser(t, "alice", "docker")
	bob := localUser(t, "bob", "docker")
	carol := localUser(t, "carol", "ci", "docker") // docker: to reach the broker; ci: her level
	mallory := localUser(t, "mallory")             // not in docker
	b := d.startBroker(t, "broker", "tcp://"+d.addr)
	t.Logf("TLS dockerd at %s, broker at %s, users %s %s %s %s, in %s", d.addr, b.sock, alice.Username, bob.Username, carol.Username,
		mallory.Username, time.Since(start).Round(time.Millisecond))
	as := func(t *testing.T, u *user.User, args ...string) outcome {
		t.Helper()
		return d.userO(t, u, b.sock, "", nil, args...)
	}
	run := func(t *testing.T, u *user.User, flags []string, cmd ...string) string {
		t.Helper()
		id := firstLine(t, as(t, u, append(append([]string{"run", "-d", "--label", "dockward-e2e=identity"}, flags...), append([]string{testImage}, cmd...)...)...))
		t.Cleanup(func() { d.docker(t, "rm", "-f", id) })
		return id
	}

	t.Run("a denial is audited under the caller's name, authn TLS", func(t *testing.T) {
		for _, u := range []*user.User{alice, bob} {
			off := logSize(t, d.auditLog)
			expectRefused(t, as(t, u, "create", "--label", "dockward-e2e=identity", testImage, "true"), "read_only_rootfs")
			var seen []exemptAudit
			found := false
			for _, r := range d.exemptRecords(t, off) {
				seen = append(seen, r)
				if r.User != nil && *r.User == u.Username && r.Endpoint == "container.create" && r.Decision == "deny" {
					found = true
					if r.Authn != "TLS" {
						t.Errorf("authn_method %q, want TLS", r.Authn)
					}
				}
			}
			if !found {
				t.Errorf("no denial audited for %s; records: %+v", u.Username, seen)
			}
		}
		// dockward audit --user finds alice's denial.
		out, code := d.dockwardCmd(t, "audit", "--log", d.auditLog, "--user", alice.Username)
		if code != 0 || !strings.Contains(out, alice.Username) || strings.Contains(out, bob.Username) {
			t.Errorf("dockward audit --user %s: exit %d:\n%s", alice.Username, code, out)
		}
		t.Logf("dockward audit --user %s:\n%s", alice.Username, out)
		// The broker logged the connection with the kernel's uid and the
		// name, and no payload.
		lg, _ := os.ReadFile(b.log)
		if want := fmt.Sprintf("uid=%s user=%s", alice.Uid, alice.Username); !strings.Contains(string(lg), want) {
			t.Errorf("broker log lacks %q:\n%s", want, tail(b.log, 10))
		}
		if strings.Contains(string(lg), "dockward-e2e=identity") {
			t.Error("the broker logged request payload")
		}
	})

	t.Run("ownership: bob may not exec, stop or rm alice's container; alice may", func(t *testing.T) {
		const name = "dw-id-web"
		id := run(t, alice, append([]string{"--name", name}, hardened...), "sleep", "300")
		out, err := op.own(t, "container", name)
		if err != nil || !strings.Contains(out, "belongs to "+alice.Username) || !strings.Contains(out, id) {
			t.Fatalf("dockward own container %s: %v: %s", name, err, out)
		}
		t.Logf("dockward own container %s: %s", name, strings.TrimSpace(out))
		off := logSize(t, d.auditLog)
		for _, args := range [][]string{{"exec", name, "id"}, {"stop", "-t", "1", name}, {"rm", "-f", name}} {
			o := as(t, bob, args...)
			expectRefused(t, o, "owner_only")
			if !strings.Contains(o.msg, "belongs to another user") || strings.Contains(o.msg, alice.Username) {
				t.Errorf("the refusal must say the container is another user's, without naming %s:\n%v", alice.Username, o)
			}
			t.Logf("%v", o)
		}
		// carol's level (baseline) has owner_only too.
		expectRefused(t, as(t, carol, "exec", name, "id"), "owner_only")
		// Nor the other ways into it: its output, a copy, an image of it,
		// or a container of his in its namespaces or with its volumes
		// (hardened, so that only ownership can refuse it).
		before := d.containerCount(t)
		for _, args := range [][]string{
			{"attach", "--no-stdin", name},
			{"logs", name},
			{"cp", name + ":/etc/passwd", "-"},
			{"commit", name, "dw-id-stolen:1"},
			{"kill", name},
			append(append([]string{"run", "--rm", "--pid", "container:" + name}, hardened...), testImage, "kill", "1"),
			append(append([]string{"run", "--rm", "--network", "container:" + name}, hardened...), testImage, "true"),
			append(append([]string{"run", "--rm", "--ipc", "container:" + name}, hardened...), testImage, "true"),
			append(append([]string{"run", "--rm", "--volumes-from", name}, hardened...), testImage, "true"),
		} {
			o := as(t, bob, args...)
			if args[0] == "attach" {
				// The CLI shows only the status of a refused upgrade; the
				// audit check below says whose refusal it was.
				if o.succeeded() || !strings.Contains(o.msg, "403") {
					t.Errorf("BYPASS? %v", o)
				}
				continue
			}
			expectRefused(t, o, "owner_only")
		}
		if after := d.containerCount(t); after != before {
			t.Errorf("BYPASS: containers %d -> %d after bob's runs", before, after)
		}
		// An exec alice made (an SDK creates, then starts): its id is in
		// docker inspect, which bob may read, but he may not start it.
		o := userAPI(t, alice, b.sock, "POST", "/containers/"+name+"/exec", `{"Cmd":["id"],"User":"1000:1000"}`)
		var ex struct {
			ID string `json:"Id"`
		}
		if o.status != 201 || json.Unmarshal([]byte(o.msg), &ex) != nil || ex.ID == "" {
			t.Fatalf("alice's exec create: %v", o)
		}
		if o := userAPI(t, bob, b.sock, "POST", "/exec/"+ex.ID+"/start", `{"Detach":true}`); o.status != 403 || !strings.Contains(o.msg, "[owner_only]") {
			t.Errorf("BYPASS? bob's start of alice's exec: %v", o)
		}
		if o := userAPI(t, alice, b.sock, "POST", "/exec/"+ex.ID+"/start", `{"Detach":true}`); o.status != 200 {
			t.Errorf("alice's start of her exec: %v", o)
		}
		// The API as an SDK (or a hand) sends it, the spellings the route
		// must resolve as dockerd does among them: each is refused by
		// owner_only, or by dockerd before it acts (a 301 to the clean
		// path, a 404), and the container stays as alice left it.
		for _, rq := range []struct{ method, path, body string }{
			{"POST", "/v1.41/containers/" + name + "/stop?t=1", ""},
			{"POST", "//containers/" + name + "/stop?t=1", ""},
			{"POST", "/containers//" + name + "/stop?t=1", ""},
			{"POST", "/containers/" + name + "/stop/?t=1", ""},
			{"POST", "/containers/%64w-id-web/stop?t=1", ""},
			{"POST", "/containers/dw-id-web%2F/stop?t=1", ""},
			{"POST", "/containers/" + strings.ToUpper(name) + "/stop", ""},
			{"POST", "/containers/" + id[:5] + "/stop?t=1", ""},
			{"POST", "/v1.41/containers/" + name + "/kill?signal=KILL", ""},
			{"POST", "/containers/" + name + "/restart?t=1", ""},
			{"POST", "/containers/" + name + "/start", ""},
			{"POST", "/containers/" + name + "/wait", ""},
			{"POST", "/containers/" + name + "/pause", ""},
			{"POST", "/containers/" + name + "/rename?name=x", ""},
			{"POST", "/containers/" + name + "/update", `{"Memory":200000000}`},
			{"POST", "/containers/" + name + "/resize?h=10&w=10", ""},
			{"PUT", "/containers/" + name + "/archive?path=/tmp", "x"},
			{"GET", "/containers/" + name + "/archive?path=/etc/passwd", ""},
			{"HEAD", "/containers/" + name + "/archive?path=/etc/passwd", ""},
			{"GET", "/containers/" + name + "/export", ""},
			{"POST", "/commit?container=" + name, ""},
			{"POST", "/commit?container=" + name + "&container=x", ""},
			{"POST", "/containers/" + name + "/exec", `{"Cmd":["id"]}`},
			{"DELETE", "/containers/" + name + "?force=1", ""},
			{"DELETE", "/v1.41/containers/" + id + "?force=1", ""},
		} {
			o := userAPI(t, bob, b.sock, rq.method, rq.path, rq.body)
			switch {
			case o.status == 403 && (rq.method == "HEAD" || strings.Contains(o.msg, "[owner_only]")): // HEAD: no body to name it
			case o.status == 301 || o.status == 404:
			default:
				t.Errorf("BYPASS? bob's %s %s: %v", rq.method, rq.path, o)
			}
			if st := strings.TrimSpace(d.mustDocker(t, "inspect", "--format", "{{.State.Running}} {{.State.Paused}} {{.Name}} {{.HostConfig.Memory}}", id)); st != "true false /"+name+" 134217728" {
				t.Fatalf("BYPASS: after bob's %s %s alice's container is %q", rq.method, rq.path, st)
			}
		}
		if st := strings.TrimSpace(d.mustDocker(t, "inspect", "--format", "{{.State.Running}}", id)); st != "true" {
			t.Fatalf("BYPASS: alice's container is no longer running (%s) after bob's calls", st)
		}
		if out := d.docker(t, "image", "inspect", "dw-id-stolen:1"); out.code == 0 {
			t.Errorf("BYPASS: bob's commit of alice's container made an image")
		}
		refused := map[string]bool{}
		for _, r := range d.levelRecords(t, off) {
			for _, v := range r.Violations {
				if r.User == bob.Username && r.Decision == "deny" && v.ID == "owner_only" {
					refused[r.Endpoint] = true
				}
			}
		}
		for _, ep := range []string{"container.exec", "container.stop", "container.delete", "container.attach"} {
			if !refused[ep] {
				t.Errorf("no audit record of %s's %s refused by owner_only (have %v)", bob.Username, ep, refused)
			}
		}
		if o := as(t, alice, "exec", name, "id"); !o.succeeded() || !strings.Contains(o.msg, "uid=1000") {
			t.Errorf("alice's exec in her own container: %v", o)
		}
		if o := as(t, alice, "stop", "-t", "1", name); !o.succeeded() {
			t.Errorf("alice's stop of her own container: %v", o)
		}
		if o := as(t, alice, "rm", name); !o.succeeded() {
			t.Errorf("alice's rm of her own container: %v", o)
		}
		if r := d.docker(t, "inspect", id); r.code == 0 {
			t.Errorf("alice's rm said it succeeded, but the container is still there")
		}
	})

	t.Run("ownership: a container root made on the raw socket is nobody's until dockward own", func(t *testing.T) {
		const old = "dw-id-old"
		r := d.docker(t, append(append([]string{"create", "--name", old, "--label", "dockward-e2e=identity"}, hardened...), testImage, "sleep", "300")...)
		if r.code != 0 {
			t.Fatalf("root's create on the raw socket: %v", r)
		}
		id := strings.TrimSpace(r.stdout)
		t.Cleanup(func() { d.docker(t, "rm", "-f", id) })
		o := as(t, bob, "start", old)
		expectRefused(t, o, "owner_only")
		if !strings.Contains(o.msg, "belongs to nobody") {
			t.Errorf("the refusal does not say it is nobody's: %v", o)
		}
		t.Logf("%v", o)
		out, err := op.own(t, "container", old, "--user", bob.Username)
		if err != nil || !strings.Contains(out, "now belongs to "+bob.Username+" (was nobody") {
			t.Fatalf("dockward own container %s --user %s: %v: %s", old, bob.Username, err, out)
		}
		t.Logf("dockward own container %s --user %s: %s", old, bob.Username, strings.TrimSpace(out))
		if o := as(t, bob, "start", old); !o.succeeded() {
			t.Errorf("bob's start of the container given to him: %v", o)
		}
		expectRefused(t, as(t, alice, "stop", old), "owner_only")
	})

	// carol's groups as the host has them: her own (useradd --user-group),
	// ci and docker, sorted as the plugin reports them.
	carolGroups := []string{carol.Username, ci, "docker"}
	slices.Sort(carolGroups)
	aliceGroups := []string{alice.Username, "docker"}
	slices.Sort(aliceGroups)
	// createRecord is the last audit record, after off, of u's container create.
	createRecord := func(t *testing.T, off int64, u *user.User) levelAudit {
		t.Helper()
		recs := d.levelRecords(t, off)
		for i := len(recs) - 1; i >= 0; i-- {
			if recs[i].User == u.Username && recs[i].Endpoint == "container.create" {
				return recs[i]
			}
		}
		t.Fatalf("no audit record of a container create by %s; records: %+v", u.Username, recs)
		return levelAudit{}
	}
	t.Run("levels: carol in ci is judged at baseline, alice at restricted", func(t *testing.T) {
		plain := []string{"run", "--rm", testImage, "true"}
		off := logSize(t, d.auditLog)
		if o := as(t, carol, plain...); !o.succeeded() {
			t.Fatalf("refused at baseline: %v", o)
		}
		r := createRecord(t, off, carol)
		if r.Decision != "allow" || r.Level != "baseline" || !slices.Equal(r.Groups, carolGroups) {
			t.Errorf("carol's audit record %+v, want allow at baseline with groups %v", r, carolGroups)
		}
		before := d.containerCount(t)
		off = logSize(t, d.auditLog)
		o := as(t, alice, plain...)
		expectRefused(t, o, "read_only_rootfs")
		if want := "judged at level restricted (user " + alice.Username + ", groups " + strings.Join(aliceGroups, " ") + ")"; !strings.Contains(o.msg, want) {
			t.Errorf("the refusal lacks %q:\n%v", want, o)
		}
		t.Logf("%v", o)
		if after := d.containerCount(t); after != before {
			t.Errorf("BYPASS: containers %d -> %d", before, after)
		}
		r = createRecord(t, off, alice)
		if r.Decision != "deny" || r.Level != "restricted" || !slices.Equal(r.Groups, aliceGroups) {
			t.Errorf("alice's audit record %+v, want deny at restricted with groups %v", r, aliceGroups)
		}
		out, code := d.dockwardCmd(t, "audit", "--log", d.auditLog, "--group", ci, "--level", "baseline")
		if code != 0 || !strings.Contains(out, carol.Username) || strings.Contains(out, alice.Username) {
			t.Errorf("dockward audit --group %s --level baseline: exit %d:\n%s", ci, code, out)
		}
		t.Logf("dockward audit --group %s --level baseline:\n%s", ci, out)
	})
	t.Run("an exemption for the ci group applies, then expires", func(t *testing.T) {
		privileged := []string{"create", "--label", "dockward-e2e=identity", "--privileged", testImage, "true"}
		expires := time.Now().Add(4 * time.Second).UTC()
		d.editData(t, func(cfg map[string]any) {
			cfg["exemptions"] = []any{map[string]any{"groups": []any{ci}, "rules": []any{"no_privileged"},
				"reason": "e2e group exemption", "expires": expires.Format(time.RFC3339Nano)}}
		})
		if time.Until(expires) < time.Second {
			t.Fatalf("the policy reload took too long to test the exemption before it expires (%s left)", time.Until(expires))
		}
		off := logSize(t, d.auditLog)
		o := as(t, carol, privileged...)
		if !o.succeeded() {
			t.Fatalf("exempted by group, yet refused: %v", o)
		}
		d.docker(t, "rm", "-f", firstLine(t, o))
		r := createRecord(t, off, carol)
		if r.Decision != "allow" || r.Level != "baseline" || len(r.Exempted) != 1 || r.Exempted[0].ID != "no_privileged" ||
			r.Exempted[0].Exemption != "e2e group exemption" {
			t.Errorf("audit record %+v, want allow at baseline with no_privileged exempted for the group", r)
		}
		// Not a member of ci: the exemption is not alice's.
		expectRefused(t, as(t, alice, privileged...), "no_privileged")
		time.Sleep(time.Until(expires) + 500*time.Millisecond)
		before := d.containerCount(t)
		expectRefused(t, as(t, carol, privileged...), "no_privileged")
		if after := d.containerCount(t); after != before {
			t.Errorf("BYPASS: containers %d -> %d after the exemption expired", before, after)
		}
	})

	t.Run("docker attach with stdin (hijacked)", func(t *testing.T) {
		id := run(t, alice, append([]string{"-i"}, hardened...), "sh", "-c", "read x; echo got:$x")
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd := d.asUser(ctx, t, alice, b.sock, "attach", id)
		// Stdin stays open until the container is done: dockerd closes an
		// attach's output when its stdin ends (no StdinOnce on run -d -i),
		// which would race the container's answer.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		cmd.Stdin = r
		io.WriteString(w, "hello-attach\n")
		o := runOutcome(t, ctx, cmd, alice.Username+": attach "+id)
		r.Close()
		if !o.succeeded() || !strings.Contains(o.msg, "got:hello-attach") {
			t.Fatalf("attach: %v", o)
		}
	})
	t.Run("docker run -i: attach, start, stdin closed by half-close", func(t *testing.T) {
		o := d.userO(t, alice, b.sock, "hello-run\n", nil, append(append([]string{"run", "-i", "--rm", "--label", "dockward-e2e=identity"}, hardened...),
			testImage, "sh", "-c", "read x; echo run:$x")...)
		if !o.succeeded() || !strings.Contains(o.msg, "run:hello-run") {
			t.Fatalf("run -i: %v", o)
		}
	})
	t.Run("docker exec -i with stdin piped", func(t *testing.T) {
		id := run(t, alice, hardened, "sleep", "60")
		o := d.userO(t, alice, b.sock, "hello-exec\n", nil, "exec", "-i", id, "sh", "-c", "read x; echo exec:$x")
		if !o.succeeded() || !strings.Contains(o.msg, "exec:hello-exec") {
			t.Fatalf("exec -i: %v", o)
		}
		t.Run("docker exec -it under a pty (script)", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
			defer cancel()
			cmd := d.asUser(ctx, t, alice, b.sock)
			inner := fmt.Sprintf("%s -H unix://%s exec -it %s sh -c 'tty; echo tty-ok'", d.cli, b.sock, id)
			cmd.Args = append(cmd.Args[:4], "script", "-qec", inner, "/dev/null") // runuser -u NAME -- script ...
			// script reads the pty's input from its stdin: keep it open
			// (an *os.File, no copying goroutine) until the command ends.
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			cmd.Stdin = r
			o := runOutcome(t, ctx, cmd, "script: "+inner)
			r.Close()
			if !o.succeeded() || !strings.Contains(o.msg, "/dev/pts/") || !strings.Contains(o.msg, "tty-ok") {
				t.Fatalf("exec -it: %v", o)
			}
		})
	})
	t.Run("docker logs -f follows until the container exits", func(t *testing.T) {
		id := run(t, alice, hardened, "sh", "-c", "echo one; sleep 1; echo two")
		o := as(t, alice, "logs", "-f", id)
		if !o.succeeded() || !strings.Contains(o.msg, "one\ntwo") {
			t.Fatalf("logs -f: %v", o)
		}
	})
	t.Run("docker events streams live through the broker", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		label := "dockward-e2e=identity-events"
		cmd := d.asUser(ctx, t, alice, b.sock, "events", "--filter", "label="+label, "--filter", "type=container", "--format", "{{.Action}}")
		pr, pw := io.Pipe()
		cmd.Stdout = pw
		// Its own process group, so that the CLI runuser started dies with
		// it (killing runuser alone leaves the CLI streaming, holding the
		// pipe Wait waits on).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group we made, by its id
			cmd.Wait()
			pw.Close()
		}()
		seen := make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				seen <- sc.Text()
			}
			close(seen)
		}()
		time.Sleep(300 * time.Millisecond) // the subscription is made before the container
		run(t, alice, append([]string{"--label", label}, hardened...), "true")
		deadline := time.After(20 * time.Second)
		for {
			select {
			case a, ok := <-seen:
				if !ok {
					t.Fatal("events ended before the container started")
				}
				if a == "start" {
					return
				}
			case <-deadline:
				t.Fatal("no start event within 20s through the broker")
			}
		}
	})
	t.Run("docker build reaches dockerd and returns its answer", func(t *testing.T) {
		dir, err := os.MkdirTemp("/tmp", "dw-build-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+testImage+"\nLABEL dockward-e2e=identity\n"), 0o644)
		tag := localName("dw-identity-build") + ":1"
		off := logSize(t, d.auditLog)
		o := d.userO(t, alice, b.sock, "", []string{"DOCKER_BUILDKIT=0"}, "build", "-t", tag, dir)
		defer d.docker(t, "rmi", "-f", tag)
		switch {
		case o.succeeded():
			if !strings.Contains(o.msg, "Successfully built") || !strings.Contains(d.mustDocker(t, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"), tag) {
				t.Fatalf("build said it succeeded but made no %s: %v", tag, o)
			}
		case o.byPlugin():
			found := false
			for _, r := range d.exemptRecords(t, off) {
				found = found || (r.User != nil && *r.User == alice.Username)
			}
			if !found {
				t.Fatalf("build denied, but not audited as %s: %v", alice.Username, o)
			}
		default:
			t.Fatalf("build through the broker: %v", o)
		}
		t.Logf("build: %s", strings.TrimSpace(o.msg))
	})

	t.Run("a CN signed by another CA is refused by dockerd's TLS", func(t *testing.T) {
		dir := t.TempDir()
		now := time.Now()
		forger, _, err := pki.Init(filepath.Join(dir, "forger"), now)
		if err != nil {
			t.Fatal(err)
		}
		forged, _ := forger.Issue(admin, time.Hour, now)
		ours, err := pki.Load(d.certs, now)
		if err != nil {
			t.Fatal(err)
		}
		genuine, _ := ours.Issue(admin, time.Hour, now)
		tlsAs := func(t *testing.T, cert *tls.Certificate, args ...string) outcome {
			c, k := writeClientCert(t, dir, "c", cert)
			ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, d.cli, append([]string{"--tlsverify", "--tlscacert", filepath.Join(d.certs, pki.CAFile),
				"--tlscert", c, "--tlskey", k, "-H", "tcp://" + d.addr}, args...)...)
			cmd.Env = d.dockerCmd(ctx).Env
			return runOutcome(t, ctx, cmd, "CN="+admin+": "+strings.Join(args, " "))
		}
		// Control: the same CN from our CA is the admin to the policy (and
		// the plugin, auditing allows, records it).
		off := logSize(t, d.auditLog)
		if o := tlsAs(t, genuine, "plugin", "rm", "x"); o.byPlugin() {
			t.Fatalf("the admin's genuine certificate was refused by dockward: %v", o)
		}
		if recs := d.levelRecords(t, off); len(recs) == 0 || recs[len(recs)-1].User != admin {
			t.Fatalf("the genuine call was not audited as %s: %+v", admin, recs)
		}
		off = logSize(t, d.auditLog)
		o := tlsAs(t, forged, "plugin", "rm", "x")
		// Under TLS 1.3 the server checks the client's certificate after
		// the client has finished its side of the handshake: the client
		// reads the alert ("unknown certificate authority") or, when its
		// request write races it, a reset.
		msg := strings.ToLower(o.msg)
		if o.succeeded() || o.byPlugin() || !(strings.Contains(msg, "certificate") || strings.Contains(msg, "connection reset by peer")) {
			t.Fatalf("forged CN %s: %v, want a TLS refusal before any API call", admin, o)
		}
		if recs := d.levelRecords(t, off); len(recs) != 0 {
			t.Fatalf("BYPASS: the forged certificate's call reached dockward: %+v", recs)
		}
		t.Logf("forged: %v", o)
	})

	t.Run("a user outside the docker group cannot connect to the broker", func(t *testing.T) {
		o := as(t, mallory, "version")
		if o.succeeded() || !strings.Contains(o.msg, "permission denied") {
			t.Fatalf("%s: %v", mallory.Username, o)
		}
		t.Logf("not in docker: %v", o)
	})

	t.Run("the raw socket is root only", func(t *testing.T) {
		st, err := os.Stat(d.dockerSock)
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if sys.Uid != 0 || sys.Gid != 0 || st.Mode().Perm()&0o007 != 0 {
			t.Errorf("raw socket %s: uid %d gid %d mode %04o, want root:root, nothing for others", d.dockerSock, sys.Uid, sys.Gid, st.Mode().Perm())
		}
		if dst, _ := os.Stat(filepath.Dir(d.dockerSock)); dst.Mode().Perm()&0o077 != 0 {
			t.Errorf("its directory is mode %04o, want 0700", dst.Mode().Perm())
		}
		o := d.userO(t, alice, d.dockerSock, "", nil, "version")
		if o.succeeded() || !strings.Contains(o.msg, "permission denied") {
			t.Fatalf("%s on the raw socket: %v", alice.Username, o)
		}
		t.Logf("raw socket %s mode %04o: %v", d.dockerSock, st.Mode().Perm(), o)
	})

	t.Run("dockerd unreachable: the caller gets the broker's 502, not a fallback", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		nb := d.startBroker(t, "broker-nodockerd", "tcp://"+closed)
		o := d.userO(t, alice, nb.sock, "", nil, "ps")
		if o.succeeded() || !strings.Contains(o.msg, "cannot reach dockerd at "+closed) || !strings.Contains(o.msg, "no fallback") {
			t.Fatalf("ps with dockerd unreachable: %v", o)
		}
		t.Logf("unreachable: %v", o)
		nb.p.stop(5 * time.Second)
	})

	// The whole doctor, as an operator runs it on this setup: the plugin,
	// the canary through dockerd, and the identity checks with a real user's
	// canary through the broker. (Its failure when dockerd does not enforce
	// is TestDoctor's, on a daemon without the plugin.)
	t.Run("dockward doctor passes on the broker setup", func(t *testing.T) {
		cfg := filepath.Join(d.dir, "doctor.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("identity:\n  socket: %s\n  socket_group: docker\n  upstream: tcp://%s\n  raw_socket: %s\n  pki_dir: %s\n",
			b.sock, d.addr, d.dockerSock, d.certs)), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"doctor", "--config", cfg, "--socket", op.socket, "--plugin-name", idPlugin,
			"--docker-host", "unix://" + d.dockerSock, "--audit-log", d.auditLog, "--as-user", alice.Username,
			"--daemon-json", filepath.Join(d.dir, "daemon.json")}
		out, code := d.dockwardCmd(t, append(args, "--json")...)
		var rep doctorReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("doctor --json: %v\n%s", err, out)
		}
		text, textCode := d.dockwardCmd(t, args...)
		t.Logf("dockward %s (exit %d):\n%s", strings.Join(args, " "), textCode, text)
		if code != 0 || textCode != 0 || !rep.OK {
			t.Errorf("doctor exit %d (text %d), ok %v, want 0 and ok", code, textCode, rep.OK)
		}
		for _, c := range []struct{ id, want string }{
			{"plugin.answers", "implements authz"},
			{"plugin.verdicts", "no_privileged"},
			{"daemon.engine", "Docker Engine"},
			{"daemon.configured", idPlugin},
			{"daemon.enforcing", "authorization denied by plugin " + idPlugin},
			{"identity.raw_socket", d.dockerSock},
			{"identity.upstream", d.addr + " is loopback"},
			{"identity.pki", d.certs},
			{"identity.caller", "audited as user \"" + alice.Username + "\""},
		} {
			st, detail := rep.check(c.id)
			// The engine's own CVEs are a warning no plugin can close.
			if (st != "ok" && (c.id != "daemon.engine" || st != "warn")) || !strings.Contains(detail, c.want) {
				t.Errorf("%s: %s %q, want ok with %q", c.id, st, detail, c.want)
			}
		}
		if len(rep.Checks) != 9 {
			t.Errorf("%d checks, want the 9 above (nothing skipped)", len(rep.Checks))
		}
	})

	t.Run("broker killed: the CLI fails, nothing answers in its place", func(t *testing.T) {
		if o := as(t, alice, "version", "--format", "{{.Server.Version}}"); !o.succeeded() {
			t.Fatalf("before the kill: %v", o)
		}
		if err := b.p.cmd.Process.Kill(); err != nil { // our process, by PID
			t.Fatal(err)
		}
		<-b.p.done
		o := as(t, alice, "version", "--format", "{{.Server.Version}}")
		if o.succeeded() || !strings.Contains(o.msg, "Cannot connect to the Docker daemon") {
			t.Fatalf("with the broker dead: %v", o)
		}
		t.Logf("broker dead: %v", o)
		// root still has the raw socket; users do not.
		if o := d.userO(t, alice, d.dockerSock, "", nil, "ps"); o.succeeded() {
			t.Fatalf("%s reached the raw socket with the broker dead: %v", alice.Username, o)
		}
	})
}
