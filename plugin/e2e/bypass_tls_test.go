//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tlsDaemon is a second isolated dockerd that authenticates clients with
// TLS certificates, in front of the package's one plugin (the plugin socket
// path is fixed, so both daemons share it, and the live policy edits).
type tlsDaemon struct {
	*harness // its own dir, sockets, procs; never the package's h
	addr     string
	certs    string // directory of ca.pem and <name>-cert.pem, <name>-key.pem
}

// writeCerts makes a CA, a server certificate for 127.0.0.1 and a client
// certificate for each CN.
func writeCerts(dir string, clients ...string) error {
	key := func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	save := func(name, typ string, der []byte) error {
		return os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
	}
	caKey, err := key()
	if err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dockward e2e CA"},
		NotBefore: now, NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := save("ca.pem", "CERTIFICATE", caDER); err != nil {
		return err
	}
	issue := func(name, cn string, serial int64, server bool) error {
		k, err := key()
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now, NotAfter: now.Add(48 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if server {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			return err
		}
		kDER, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return err
		}
		if err := save(name+"-cert.pem", "CERTIFICATE", der); err != nil {
			return err
		}
		return save(name+"-key.pem", "EC PRIVATE KEY", kDER)
	}
	if err := issue("server", "127.0.0.1", 2, true); err != nil {
		return err
	}
	for i, c := range clients {
		if err := issue(c, c, int64(10+i), false); err != nil {
			return err
		}
	}
	return nil
}

// tlsOptions change how startTLSDaemonWith sets the daemon up.
type tlsOptions struct {
	// clients: certificates beyond alice, ops-admin and bob (local users'
	// names, as dockward's identity broker would present them).
	clients []string
	// identity: the PKI is dockward's own (`dockward identity init` into
	// certs: ca.pem, ca-key.pem, server-cert.pem, server-key.pem; no client
	// certificates on disk, the broker mints them), and the daemon's unix
	// socket is root only (--group root, as daemon.json's "group" under
	// install.sh --identity, in a 0700 directory).
	identity bool
	// plugin is the daemon's authorization plugin (pluginName when "").
	plugin string
	// beforeDockerd runs once the directories are made, before dockerd
	// starts (to start the plugin it names).
	beforeDockerd func(d *tlsDaemon) error
}

// startTLSDaemon starts the second daemon; the caller stops it with stop.
// Its clients are alice, ops-admin and bob, plus extra (local users' names,
// as dockward's identity broker would present them).
func startTLSDaemon(t *testing.T, hs *harness, extra ...string) (*tlsDaemon, error) {
	return startTLSDaemonWith(t, hs, tlsOptions{clients: extra})
}

func startTLSDaemonWith(t *testing.T, hs *harness, opts tlsOptions) (*tlsDaemon, error) {
	dir, err := os.MkdirTemp("/tmp", "dw-t-") // 0700: nobody but root reaches the raw socket
	if err != nil {
		return nil, err
	}
	d := &tlsDaemon{harness: &harness{engine: hs.engine, dir: dir, dockerd: hs.dockerd, runc: hs.runc, binDir: hs.binDir, cli: hs.cli,
		dockward: hs.dockward, dockerSock: filepath.Join(dir, "docker.sock"), daemonLog: filepath.Join(dir, "dockerd.log")}, certs: filepath.Join(dir, "certs")}
	d.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var extra []string
	if opts.identity {
		cfg := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfg, []byte("log_level: info\n"), 0o600); err != nil {
			return d, err
		}
		out, err := exec.Command(hs.dockward, "identity", "init", "--config", cfg, "--pki-dir", d.certs,
			"--upstream", "tcp://"+d.addr, "--raw-socket", d.dockerSock).CombinedOutput()
		if err != nil {
			return d, fmt.Errorf("dockward identity init: %v\n%s", err, out)
		}
		extra = append(extra, "--group", "root")
	} else {
		if err := os.MkdirAll(d.certs, 0o700); err != nil {
			return d, err
		}
		if err := writeCerts(d.certs, append([]string{"alice", "ops-admin", "bob"}, opts.clients...)...); err != nil {
			return d, fmt.Errorf("certificates: %w", err)
		}
	}
	plugin := pluginName
	if opts.plugin != "" {
		plugin = opts.plugin
	}
	if opts.beforeDockerd != nil {
		if err := opts.beforeDockerd(d); err != nil {
			return d, err
		}
	}
	if _, err := d.startDockerd("dockerd-tls", plugin, "", append([]string{
		"-H", "tcp://" + d.addr,
		"--tlsverify", "--tlscacert", filepath.Join(d.certs, "ca.pem"),
		"--tlscert", filepath.Join(d.certs, "server-cert.pem"), "--tlskey", filepath.Join(d.certs, "server-key.pem"),
	}, extra...)...); err != nil {
		return d, err
	}
	return d, d.importImage()
}

func (d *tlsDaemon) stop() error {
	if d == nil || d.harness == nil {
		return nil
	}
	return d.teardown()
}

// as runs the CLI over TCP with user's client certificate.
func (d *tlsDaemon) as(t *testing.T, user string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	full := append([]string{"--tlsverify", "--tlscacert", filepath.Join(d.certs, "ca.pem"),
		"--tlscert", filepath.Join(d.certs, user+"-cert.pem"), "--tlskey", filepath.Join(d.certs, user+"-key.pem"),
		"-H", "tcp://" + d.addr}, args...)
	cmd := exec.CommandContext(ctx, d.cli, full...)
	cmd.Env = d.dockerCmd(ctx).Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	o := outcome{via: "cli", what: user + ": " + strings.Join(args, " "), msg: stderr.String() + stdout.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		o.code = ee.ExitCode()
	default:
		t.Fatalf("docker %v: %v (%s)", args, err, stderr.String())
	}
	return o
}

// exemptAudit is an audit record's user and waived violations.
type exemptAudit struct {
	Decision string  `json:"decision"`
	User     *string `json:"user"`
	Authn    string  `json:"authn_method"`
	Endpoint string  `json:"endpoint"`
	Exempted []struct {
		ID        string `json:"id"`
		Exemption string `json:"exemption"`
	} `json:"exempted"`
}

// auditAfter decodes, as T, the audit records written to path after offset.
func auditAfter[T any](t *testing.T, path string, offset int64) []T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b[min(offset, int64(len(b))):]))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// exemptRecords are the audit records written after offset.
func (hs *harness) exemptRecords(t *testing.T, offset int64) []exemptAudit {
	t.Helper()
	return auditAfter[exemptAudit](t, hs.auditLog, offset)
}

// TestBypassUsersAndExemptions (users and exemptions, issue point 4; the
// identity part of the protocol): on a daemon that authenticates clients
// with TLS, the certificate CN is the user. An exempt user passes with
// every violation audited as "exempt user"; a scoped exemption waives only
// its rules for its user and images; an exemption with "expires" stops
// applying on time, without a restart.
func TestBypassUsersAndExemptions(t *testing.T) {
	hs := env(t)
	start := time.Now()
	d, err := startTLSDaemon(t, hs)
	t.Cleanup(func() {
		if t.Failed() && d != nil {
			t.Logf("TLS dockerd log:\n%s", tailNoDebug(d.daemonLog, 30))
		}
		if err := d.stop(); err != nil {
			t.Errorf("stop the TLS daemon: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("second daemon with TLS: %v", err)
	}
	t.Logf("TLS dockerd up at %s in %s", d.addr, time.Since(start).Round(time.Millisecond))

	hs.editData(t, func(cfg map[string]any) {
		cfg["exempt_users"] = []any{"ops-admin"}
		cfg["admins"] = []any{"ops-admin"}
		cfg["exemptions"] = []any{map[string]any{"users": []any{"alice"}, "images": []any{"dockward-test:*"},
			"rules": []any{"read_only_rootfs"}, "reason": "e2e TICKET-1"}}
	})
	create := func(flags []string) []string {
		return append(append([]string{"create", "--label", "dockward-e2e=bypass"}, flags...), testImage, "true")
	}
	// allowedCreate asserts the plugin let the create through, and removes
	// what it made.
	allowedCreate := func(t *testing.T, user string, flags []string) {
		t.Helper()
		o := d.as(t, user, create(flags)...)
		if !o.succeeded() {
			t.Fatalf("refused: %v", o)
		}
		d.docker(t, "rm", "-f", strings.TrimSpace(strings.Split(strings.TrimSpace(o.msg), "\n")[0]))
	}
	recordFor := func(t *testing.T, off int64, user, rule, reason string) {
		t.Helper()
		var seen []exemptAudit
		for _, r := range hs.exemptRecords(t, off) {
			seen = append(seen, r)
			if r.User == nil || *r.User != user || r.Endpoint != "container.create" {
				continue
			}
			for _, e := range r.Exempted {
				if e.ID == rule && e.Exemption == reason {
					if r.Authn != "TLS" {
						t.Errorf("authn_method %q, want TLS", r.Authn)
					}
					return
				}
			}
		}
		t.Errorf("no audit record for user %q with %s exempted (%q); records: %+v", user, rule, reason, seen)
	}

	t.Run("exempt user ops-admin: a bare run is allowed and audited", func(t *testing.T) {
		off := logSize(t, hs.auditLog)
		allowedCreate(t, "ops-admin", nil)
		for _, rule := range []string{"read_only_rootfs", "drop_all_caps", "non_root_user", "memory_limit"} {
			recordFor(t, off, "ops-admin", rule, "exempt user")
		}
	})
	t.Run("alice: the exempted rule only", func(t *testing.T) {
		off := logSize(t, hs.auditLog)
		allowedCreate(t, "alice", without(hardened, "--read-only"))
		recordFor(t, off, "alice", "read_only_rootfs", "e2e TICKET-1")
	})
	refusals := []struct {
		name, user, rule string
		args             []string
	}{
		{"alice --privileged", "alice", "no_privileged", create(with(hardened, "--privileged"))},
		{"alice without --cap-drop (rule not exempted)", "alice", "drop_all_caps", create(without(without(hardened, "--read-only"), "--cap-drop"))},
		{"bob without --read-only (user not exempted)", "bob", "read_only_rootfs", create(without(hardened, "--read-only"))},
		{"alice plugin rm (not an admin)", "alice", "plugin_admin_only", []string{"plugin", "rm", "x"}},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			before := strings.Fields(d.mustDocker(t, "ps", "-aq"))
			expectRefused(t, d.as(t, c.user, c.args...), c.rule)
			if now := strings.Fields(d.mustDocker(t, "ps", "-aq")); len(now) != len(before) {
				t.Errorf("BYPASS: containers %d -> %d", len(before), len(now))
			}
		})
	}
	t.Run("unix socket of the TLS daemon: no user, no exemption", func(t *testing.T) {
		expectRefused(t, d.dockerO(t, create(without(hardened, "--read-only"))...), "read_only_rootfs")
	})
	t.Run("admin ops-admin: plugin rm reaches the daemon", func(t *testing.T) {
		if o := d.as(t, "ops-admin", "plugin", "rm", "x"); o.byPlugin() {
			t.Errorf("an admin's plugin call was refused by dockward: %v", o)
		}
	})

	t.Run("an exemption expires without a restart", func(t *testing.T) {
		expires := time.Now().Add(3 * time.Second).UTC()
		hs.editData(t, func(cfg map[string]any) {
			ex, _ := cfg["exemptions"].([]any)
			cfg["exemptions"] = append(ex, map[string]any{"users": []any{"alice"}, "images": []any{"dockward-test:*"},
				"rules": []any{"memory_limit"}, "reason": "e2e expiring", "expires": expires.Format(time.RFC3339Nano)})
		})
		flags := without(hardened, "--memory")
		if time.Until(expires) < 500*time.Millisecond {
			t.Fatalf("the policy reload took too long to test the exemption before it expires (%s left)", time.Until(expires))
		}
		off := logSize(t, hs.auditLog)
		allowedCreate(t, "alice", flags)
		recordFor(t, off, "alice", "memory_limit", "e2e expiring")
		time.Sleep(time.Until(expires) + 500*time.Millisecond)
		expectRefused(t, d.as(t, "alice", create(flags)...), "memory_limit")
	})
}
