package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func mustInit(t *testing.T, dir string, now time.Time) *CA {
	t.Helper()
	ca, _, err := Init(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestInitCreatesThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "identity")
	ca, created, err := Init(dir, t0)
	if err != nil || !created {
		t.Fatalf("first Init: created=%v err=%v", created, err)
	}
	if m := mode(t, filepath.Join(dir, CAKeyFile)); m != 0o600 {
		t.Errorf("ca-key.pem mode %04o, want 0600", m)
	}
	if m := mode(t, filepath.Join(dir, CAFile)); m != 0o644 {
		t.Errorf("ca.pem mode %04o, want 0644", m)
	}
	if !ca.Cert.IsCA || ca.Cert.NotAfter.Sub(t0) < 9*365*24*time.Hour {
		t.Errorf("CA: IsCA=%v until %s", ca.Cert.IsCA, ca.Cert.NotAfter)
	}
	again, created, err := Init(dir, t0.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("second Init: created=%v err=%v", created, err)
	}
	if !bytes.Equal(again.Cert.Raw, ca.Cert.Raw) || !again.Key.Equal(ca.Key) {
		t.Error("second Init made a new CA instead of loading the first")
	}
}

func TestLoadRefuses(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		now    time.Time
		want   string
	}{
		{"group-readable key", func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, CAKeyFile), 0o640) }, t0, "readable by others"},
		{"world-readable key", func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, CAKeyFile), 0o604) }, t0, "readable by others"},
		{"key is a symlink", func(t *testing.T, dir string) {
			k := filepath.Join(dir, CAKeyFile)
			os.Rename(k, k+".real")
			os.Symlink(k+".real", k)
		}, t0, "not a regular file"},
		{"key without cert", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CAFile)) }, t0, "ca.pem"},
		{"cert without key", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CAKeyFile)) }, t0, "ca-key.pem"},
		{"key of another CA", func(t *testing.T, dir string) {
			other := t.TempDir()
			mustInit(t, other, t0)
			b, _ := os.ReadFile(filepath.Join(other, CAKeyFile))
			os.WriteFile(filepath.Join(dir, CAKeyFile), b, 0o600)
		}, t0, "does not belong"},
		{"expired CA", func(*testing.T, string) {}, t0.Add(CAValidity + time.Hour), "not now"},
		{"garbage cert", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, CAFile), []byte("nope"), 0o644) }, t0, "no PEM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			mustInit(t, dir, t0)
			c.break_(t, dir)
			_, _, err := Init(dir, c.now)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Init: %v, want an error containing %q", err, c.want)
			}
			// Never overwritten: the operator decides.
			if _, err := os.Lstat(filepath.Join(dir, CAKeyFile)); c.name != "cert without key" && err != nil {
				t.Errorf("the key file is gone: %v", err)
			}
		})
	}
}

func TestServerLifecycle(t *testing.T) {
	dir := t.TempDir()
	ca := mustInit(t, dir, t0)
	ip := net.ParseIP("127.0.0.1")
	serverCert := func(t *testing.T) *x509.Certificate {
		t.Helper()
		c, err := ReadCert(filepath.Join(dir, ServerCertFile))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	st, _, err := ca.EnsureServer(dir, ip, ServerRenewBefore, t0)
	if err != nil || st != ServerCreated {
		t.Fatalf("create: %s %v", st, err)
	}
	if m := mode(t, filepath.Join(dir, ServerKeyFile)); m != 0o600 {
		t.Errorf("server-key.pem mode %04o, want 0600", m)
	}
	first := serverCert(t)
	if err := first.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	steps := []struct {
		name string
		prep func(t *testing.T)
		ca   *CA
		ip   string
		now  time.Time
		want ServerState
		why  string
	}{
		{"reused while valid", nil, ca, "127.0.0.1", t0.Add(300 * 24 * time.Hour), ServerKept, ""},
		{"renewed near expiry", nil, ca, "127.0.0.1", first.NotAfter.Add(-10 * 24 * time.Hour), ServerRenewed, "expires"},
		{"renewed after expiry", nil, ca, "127.0.0.1", t0.Add(2 * ServerValidity), ServerRenewed, "not valid"},
		{"renewed for another address", nil, ca, "127.0.0.2", t0.Add(2 * ServerValidity), ServerRenewed, "not for 127.0.0.2"},
		{"renewed under a new CA", nil, mustInit(t, t.TempDir(), t0), "127.0.0.2", t0.Add(2 * ServerValidity), ServerRenewed, "not valid under this CA"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := serverCert(t)
			st, why, err := s.ca.EnsureServer(dir, net.ParseIP(s.ip), ServerRenewBefore, s.now)
			if err != nil || st != s.want || !strings.Contains(why, s.why) {
				t.Fatalf("EnsureServer: %s %q %v, want %s %q", st, why, err, s.want, s.why)
			}
			after := serverCert(t)
			if changed := !bytes.Equal(before.Raw, after.Raw); changed != (s.want != ServerKept) {
				t.Errorf("certificate changed=%v, state %s", changed, st)
			}
			if _, err := after.Verify(x509.VerifyOptions{Roots: s.ca.Pool(), CurrentTime: s.now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("after: %v", err)
			}
		})
	}
	t.Run("a readable server key is refused, not replaced", func(t *testing.T) {
		k := filepath.Join(dir, ServerKeyFile)
		os.Chmod(k, 0o644)
		before, _ := os.ReadFile(k)
		_, _, err := ca.EnsureServer(dir, ip, ServerRenewBefore, t0)
		if err == nil || !strings.Contains(err.Error(), "readable by others") {
			t.Fatalf("EnsureServer: %v", err)
		}
		if after, _ := os.ReadFile(k); !bytes.Equal(before, after) {
			t.Error("the key was replaced")
		}
	})
}

func TestMinter(t *testing.T) {
	ca := mustInit(t, t.TempDir(), t0)
	now := t0
	m := NewMinter(ca, 24*time.Hour)
	m.Now = func() time.Time { return now }
	a1, err := m.Get("alice")
	if err != nil {
		t.Fatal(err)
	}
	if a1.Leaf.Subject.CommonName != "alice" || a1.Leaf.NotAfter.Sub(t0) != 24*time.Hour {
		t.Errorf("CN %q, until %s", a1.Leaf.Subject.CommonName, a1.Leaf.NotAfter)
	}
	if _, err := a1.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("verify: %v", err)
	}
	b1, _ := m.Get("bob")
	if b1 == a1 || b1.Leaf.Subject.CommonName != "bob" {
		t.Errorf("bob got %q", b1.Leaf.Subject.CommonName)
	}
	now = t0.Add(10 * time.Hour)
	if a2, _ := m.Get("alice"); a2 != a1 {
		t.Error("re-minted with 14h of 24h left: want the cached one")
	}
	now = t0.Add(17 * time.Hour) // less than a third left
	a3, _ := m.Get("alice")
	if a3 == a1 {
		t.Fatal("not re-minted with 7h left")
	}
	if a3.Leaf.NotAfter.Sub(now) != 24*time.Hour {
		t.Errorf("re-minted until %s", a3.Leaf.NotAfter)
	}
	if _, err := m.Get(""); err == nil {
		t.Error("a certificate for no name")
	}
	now = t0.Add(48 * time.Hour)
	m.Get("carol")
	if _, ok := m.cache["bob"]; ok {
		t.Error("bob's expired certificate kept in the cache")
	}
}

// TestHandshake is the point of the PKI: a server that trusts only our CA
// (as dockerd does with --tlsverify --tlscacert ca.pem) sees the minted CN,
// and refuses a certificate with the same CN from another CA, and an
// expired one of ours.
func TestHandshake(t *testing.T) {
	dir := t.TempDir()
	ca := mustInit(t, dir, time.Now())
	if _, _, err := ca.EnsureServer(dir, net.ParseIP("127.0.0.1"), ServerRenewBefore, time.Now()); err != nil {
		t.Fatal(err)
	}
	srvPair, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{srvPair}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert,
		MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			if err := tc.Handshake(); err != nil {
				seen <- "refused: " + err.Error()
			} else {
				seen <- "CN=" + tc.ConnectionState().PeerCertificates[0].Subject.CommonName
				io.WriteString(tc, "ok")
			}
			tc.Close()
		}
	}()
	forger := mustInit(t, t.TempDir(), time.Now())
	forged, _ := forger.Issue("root", time.Hour, time.Now())
	good, _ := NewMinter(ca, 0).Get("alice")
	expired, _ := ca.Issue("alice", time.Hour, time.Now().Add(-3*time.Hour))
	cases := []struct {
		name string
		cert *tls.Certificate
		want string
	}{
		{"ours", good, "CN=alice"},
		{"forged CN from another CA", forged, "refused"},
		{"ours but expired", expired, "refused"},
		{"none", nil, "refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
			if c.cert != nil {
				cfg.Certificates = []tls.Certificate{*c.cert}
			}
			conn, err := tls.Dial("tcp", ln.Addr().String(), cfg)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(conn) // TLS 1.3: the refusal arrives on first read
				conn.Close()
			}
			server := <-seen
			if !strings.HasPrefix(server, c.want) {
				t.Fatalf("server saw %q, want %q (client: %q, %v)", server, c.want, got, err)
			}
			if c.want == "refused" && (err == nil || string(got) == "ok") {
				t.Errorf("client got %q, err %v: want a failed handshake", got, err)
			}
		})
	}
	t.Run("our client refuses a server of another CA", func(t *testing.T) {
		_, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: forger.Pool(), ServerName: "127.0.0.1", Certificates: []tls.Certificate{*good}})
		var uerr x509.UnknownAuthorityError
		if !errors.As(err, &uerr) {
			t.Fatalf("dial: %v, want an unknown authority", err)
		}
		<-seen
	})
}
