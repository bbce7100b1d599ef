package broker

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/pki"
)

type fixture struct {
	dir      string
	ca       *pki.CA
	upstream string
	seenUIDs chan uint32
}

// upstreamEcho is a TLS server that trusts only ca, like dockerd with
// --tlsverify: per connection it writes "CN=<cn>\n", echoes every byte
// until the client half-closes, then writes "bye\n" and closes.
func upstreamEcho(t *testing.T, ca *pki.CA, pair tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(tc *tls.Conn) {
				defer tc.Close()
				if err := tc.Handshake(); err != nil {
					return
				}
				fmt.Fprintf(tc, "CN=%s\n", tc.ConnectionState().PeerCertificates[0].Subject.CommonName)
				io.Copy(tc, tc) // until the client's close_notify
				io.WriteString(tc, "bye\n")
			}(c.(*tls.Conn))
		}
	}()
	return ln.Addr().String()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir, err := os.MkdirTemp("", "dw-broker-") // short: unix socket paths
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ca, _, err := pki.Init(filepath.Join(dir, "pki"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.EnsureServer(filepath.Join(dir, "pki"), net.ParseIP("127.0.0.1"), pki.ServerRenewBefore, time.Now()); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "pki", pki.ServerCertFile), filepath.Join(dir, "pki", pki.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, ca: ca, upstream: upstreamEcho(t, ca, pair), seenUIDs: make(chan uint32, 16)}
}

// start runs a broker whose user database names every uid "alice", or
// none when anonymous; it returns its socket.
func (f *fixture) start(t *testing.T, upstream string, anonymous bool) string {
	t.Helper()
	b, err := New(Options{Upstream: "tcp://" + upstream, Minter: pki.NewMinter(f.ca, 0), RootCAs: f.ca.Pool(), DialTimeout: 2 * time.Second,
		LookupUser: func(uid uint32) (string, error) {
			f.seenUIDs <- uid
			if anonymous {
				return "", errors.New("user: unknown userid")
			}
			return "alice", nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(f.dir, fmt.Sprintf("b%d.sock", time.Now().UnixNano()%1e6))
	ln, err := Listen(sock, -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); b.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return sock
}

func dial(t *testing.T, sock string) *net.UnixConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c.(*net.UnixConn)
}

func TestForwardsAsThePeerWithHalfClose(t *testing.T) {
	f := newFixture(t)
	sock := f.start(t, f.upstream, false)
	c := dial(t, sock)
	defer c.Close()
	// What the client says about itself changes nothing.
	io.WriteString(c, "GET /_ping HTTP/1.1\r\nX-Dockward-User: root\r\n\r\nCN=root\n")
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || line != "CN=alice\n" {
		t.Fatalf("upstream saw %q (%v), want CN=alice", line, err)
	}
	if uid := <-f.seenUIDs; uid != uint32(os.Getuid()) {
		t.Errorf("looked up uid %d, want this process's %d (from SO_PEERCRED)", uid, os.Getuid())
	}
	// The stream stays open both ways until we half-close (like attach
	// with stdin), and the answer after our EOF still arrives.
	io.WriteString(c, "more\n")
	if l, _ := readLineAfter(r, "more\n"); l != "more\n" {
		t.Fatalf("echo: %q", l)
	}
	c.CloseWrite()
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "bye\n" {
		t.Fatalf("after half-close: %q %v, want bye", rest, err)
	}
}

// readLineAfter reads lines until want (the echo of the request comes first).
func readLineAfter(r *bufio.Reader, want string) (string, error) {
	for {
		l, err := r.ReadString('\n')
		if err != nil || l == want {
			return l, err
		}
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	down := closed.Addr().String()
	closed.Close()
	// An upstream with a certificate of another CA: the broker must not
	// hand a client certificate to an impostor.
	other := t.TempDir()
	oca, _, _ := pki.Init(other, time.Now())
	oca.EnsureServer(other, net.ParseIP("127.0.0.1"), pki.ServerRenewBefore, time.Now())
	opair, _ := tls.LoadX509KeyPair(filepath.Join(other, pki.ServerCertFile), filepath.Join(other, pki.ServerKeyFile))
	impostor := upstreamEcho(t, oca, opair)
	cases := []struct {
		name      string
		upstream  string
		anonymous bool
		status    int
		want      []string
	}{
		{"uid without a name", f.upstream, true, 403, []string{"has no name", "never forwards"}},
		{"dockerd down", down, false, 502, []string{"cannot reach dockerd", "no fallback", "daemon.json"}},
		{"dockerd with a certificate of another CA", impostor, false, 502, []string{"cannot reach dockerd", "certificate"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sock := f.start(t, c.upstream, c.anonymous)
			tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", sock)
			}}
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://docker/v1.41/containers/json")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
			}
			for _, w := range c.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("body %s lacks %q", body, w)
				}
			}
		})
	}
}

func TestListen(t *testing.T) {
	dir, _ := os.MkdirTemp("", "dw-listen-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "docker.sock")
	gid := os.Getgid() + 0
	ln, err := Listen(path, gid)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o660 || st.Sys().(*syscall.Stat_t).Gid != uint32(gid) {
		t.Errorf("socket mode %04o gid %d, want 0660 gid %d", st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Gid, gid)
	}
	if _, err := Listen(path, -1); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("second Listen on a live socket: %v", err)
	}
	// A stale socket (nobody accepting) is replaced.
	ln.SetUnlinkOnClose(false)
	ln.Close()
	ln2, err := Listen(path, -1)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	ln2.Close()
	os.WriteFile(path, []byte("x"), 0o600)
	if _, err := Listen(path, -1); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("over a regular file: %v", err)
	}
}

func TestLookupUser(t *testing.T) {
	name, err := LookupUser(uint32(os.Getuid()))
	if err != nil || name == "" {
		t.Fatalf("this process's uid: %q %v", name, err)
	}
	if _, err := LookupUser(2147480000); err == nil {
		t.Error("a uid that is in no user database has a name")
	}
}

func TestNewRefusesBadUpstream(t *testing.T) {
	f := newFixture(t)
	for _, up := range []string{"", "unix:///var/run/docker.sock", "127.0.0.1", "tcp://10.0.0.1:2376", "tcp://docker.example:2376"} {
		if _, err := New(Options{Upstream: up, Minter: pki.NewMinter(f.ca, 0), RootCAs: f.ca.Pool()}); err == nil {
			t.Errorf("upstream %q accepted", up)
		}
	}
}
