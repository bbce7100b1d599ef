package doctor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/config"
)

func TestRootOnlySocket(t *testing.T) {
	t.Parallel()
	sock := fs.ModeSocket
	tests := []struct {
		name string
		f    fileOwner
		want string // "" = root-only
	}{
		{"0600 root", fileOwner{mode: sock | 0o600}, ""},
		{"0660 root:root", fileOwner{mode: sock | 0o660}, ""},
		{"0660 root:docker", fileOwner{mode: sock | 0o660, gid: 105}, "lets group 105 connect"},
		{"0666 root", fileOwner{mode: sock | 0o666}, "lets every local user connect"},
		{"0600 alice", fileOwner{mode: sock | 0o600, uid: 1000}, "owned by uid 1000"},
		{"a regular file", fileOwner{mode: 0o600}, "not a socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := strings.Join(rootOnlySocket(tt.f), "; ")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("rootOnlySocket = %q, want %q", got, tt.want)
			}
		})
	}
}

// The check stats the real socket: its mode and owner as the kernel has
// them.
func TestCheckRawSocketStatsTheSocket(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "raw.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e := &env{opts: Options{Identity: &config.Identity{RawSocket: path}, DockerHost: "unix://" + path}}
	root := os.Geteuid() == 0
	for _, tt := range []struct {
		mode fs.FileMode
		want Status
	}{{0o600, OK}, {0o666, Fail}, {0o660, OK}} {
		if err := os.Chmod(path, tt.mode); err != nil {
			t.Fatal(err)
		}
		want := tt.want
		if !root {
			want = Fail // owned by the (non-root) test user
		}
		if r := checkRawSocket(t.Context(), e); r.Status != want || (want == Fail && r.Fix == "") {
			t.Errorf("mode %04o: %+v, want %s", tt.mode, r, want)
		}
	}
	if root {
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, 65534, 0); err != nil {
			t.Fatal(err)
		}
		if r := checkRawSocket(t.Context(), e); r.Status != Fail || !strings.Contains(r.Detail, "uid 65534") {
			t.Errorf("owned by nobody: %+v", r)
		}
		_ = os.Chown(path, 0, 0)
	}
	e.opts.DockerHost = "unix:///var/run/docker.sock"
	if r := checkRawSocket(t.Context(), e); root && (r.Status != Warn || !strings.Contains(r.Fix, "docker_host: unix://"+path)) {
		t.Errorf("docker_host not the raw socket: %+v", r)
	}
	e.opts.Identity.RawSocket = filepath.Join(dir, "missing.sock")
	if r := checkRawSocket(t.Context(), e); r.Status != Fail || !strings.Contains(r.Detail, "no such file") {
		t.Errorf("missing socket: %+v", r)
	}
}

func TestParseProcAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, ip string
		port   int
	}{
		{"0100007F:0948", "127.0.0.1", 2376},
		{"00000000:0FC0", "0.0.0.0", 4032},
		{"00000000000000000000000001000000:0948", "::1", 2376},
		{"0000000000000000FFFF00000A01A8C0:01BB", "192.168.1.10", 443},
	}
	for _, tt := range tests {
		ip, port, err := parseProcAddr(tt.in)
		if err != nil || ip.String() != tt.ip || port != tt.port {
			t.Errorf("parseProcAddr(%s) = %v %d %v, want %s %d", tt.in, ip, port, err, tt.ip, tt.port)
		}
	}
	if _, _, err := parseProcAddr("zz:1"); err == nil {
		t.Error("bad address accepted")
	}
}

// fakeProc writes a /proc with the given tcp and tcp6 tables and processes
// holding socket inodes.
func fakeProc(t *testing.T, tcp, tcp6 string, fds map[string][]string) string {
	t.Helper()
	root := t.TempDir()
	hdr := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	if err := os.MkdirAll(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"tcp": tcp, "tcp6": tcp6} {
		if err := os.WriteFile(filepath.Join(root, "net", name), []byte(hdr+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for pid, inodes := range fds {
		dir := filepath.Join(root, pid, "fd")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, in := range inodes {
			if err := os.Symlink("socket:["+in+"]", filepath.Join(dir, string(rune('3'+i)))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func tcpLine(addr, state, inode string) string {
	return "   0: " + addr + " 00000000:0000 " + state + " 00000000:00000000 00:00000000 00000000     0        0 " + inode + " 1 0000000000000000 100 0 0 10 0\n"
}

func TestExposedListeners(t *testing.T) {
	t.Parallel()
	tls := tcpLine("0100007F:0948", "0A", "111")    // 127.0.0.1:2376, LISTEN
	public := tcpLine("00000000:0948", "0A", "222") // 0.0.0.0:2376
	other := tcpLine("00000000:1F90", "0A", "333")  // 0.0.0.0:8080 (another process)
	est := tcpLine("0100007F:0948", "01", "444")    // an established connection
	v6any := "   0: 00000000000000000000000000000000:0947 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1\n"
	tests := []struct {
		name    string
		tcp     string
		tcp6    string
		fds     map[string][]string
		pid     int
		exposed string
	}{
		{"loopback only", tls + other + est, "", map[string][]string{"42": {"111", "444"}, "7": {"333"}}, 42, ""},
		{"also on every address", tls + public, "", map[string][]string{"42": {"111", "222"}}, 42, "0.0.0.0:2376"},
		{"also on IPv6 any", tls, v6any, map[string][]string{"42": {"111", "555"}}, 42, "[::]:2375"},
		{"nobody listens", other, "", map[string][]string{"7": {"333"}}, 0, ""},
		{"the owner cannot be read", tls, "", nil, 0, "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := fakeProc(t, tt.tcp, tt.tcp6, tt.fds)
			pid, exposed, err := exposedListeners(root, 2376)
			if tt.exposed == "unreadable" {
				if !errors.Is(err, errNoOwner) {
					t.Fatalf("err = %v, want errNoOwner", err)
				}
				return
			}
			if err != nil || pid != tt.pid || strings.Join(exposed, ",") != tt.exposed {
				t.Fatalf("exposedListeners = %d %v %v, want %d %q", pid, exposed, err, tt.pid, tt.exposed)
			}
		})
	}
}

func TestExposedHosts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct{ json, want string }{
		{`{"hosts":["unix:///run/dockward/docker-root.sock","tcp://127.0.0.1:2376"]}`, ""},
		{`{"hosts":["fd://","tcp://[::1]:2376","tcp://localhost:2377"]}`, ""},
		{`{"hosts":["tcp://0.0.0.0:2375","tcp://127.0.0.1:2376","tcp://10.0.0.5:2376"]}`, "tcp://0.0.0.0:2375,tcp://10.0.0.5:2376"},
		{`{"log-level":"info"}`, ""},
	}
	for i, tt := range tests {
		p := filepath.Join(dir, "d.json")
		if err := os.WriteFile(p, []byte(tt.json), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := exposedHosts(p)
		if err != nil || strings.Join(got, ",") != tt.want {
			t.Errorf("%d: %v %v, want %q", i, got, err, tt.want)
		}
	}
	if got, err := exposedHosts(filepath.Join(dir, "missing.json")); err != nil || got != nil {
		t.Errorf("missing daemon.json: %v %v", got, err)
	}
	_ = os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o644)
	if _, err := exposedHosts(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("bad JSON accepted")
	}
}

// pki is a CA and a server certificate written to a directory, with knobs
// for every defect the check must find.
type pki struct {
	serverNotAfter time.Time
	caNotAfter     time.Time
	otherCA        bool // the server certificate is signed by another CA
	keyMode        os.FileMode
	wrongKey       bool // server-key.pem is not the server certificate's key
	serverIP       string
}

func (p pki) write(t *testing.T, dir string) {
	t.Helper()
	now := time.Now()
	if p.caNotAfter.IsZero() {
		p.caNotAfter = now.Add(10 * 365 * 24 * time.Hour)
	}
	if p.serverNotAfter.IsZero() {
		p.serverNotAfter = now.Add(365 * 24 * time.Hour)
	}
	if p.keyMode == 0 {
		p.keyMode = 0o600
	}
	if p.serverIP == "" {
		p.serverIP = "127.0.0.1"
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	save := func(name, typ string, der []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	mkCA := func(k *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dockward identity CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: p.caNotAfter, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, der
	}
	cak := key()
	ca, caDER := mkCA(cak)
	signer, signerKey := ca, cak
	if p.otherCA {
		k := key()
		signer, _ = mkCA(k)
		signerKey = k
	}
	srvKey := key()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "dockerd"},
		NotBefore: now.Add(-time.Hour), NotAfter: p.serverNotAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP(p.serverIP)}}
	srvDER, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &srvKey.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.wrongKey {
		srvKey = key()
	}
	marshal := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	save(caCert, "CERTIFICATE", caDER, 0o644)
	save(caKey, "EC PRIVATE KEY", marshal(cak), p.keyMode)
	save(serverCert, "CERTIFICATE", srvDER, 0o644)
	save(serverKey, "EC PRIVATE KEY", marshal(srvKey), 0o600)
}

func TestPKI(t *testing.T) {
	t.Parallel()
	now := time.Now()
	root := os.Geteuid() == 0
	tests := []struct {
		name string
		pki  pki
		want string // "" = no problem
	}{
		{"valid", pki{}, ""},
		{"server certificate near expiry", pki{serverNotAfter: now.Add(3 * 24 * time.Hour)}, "server-cert.pem expires in"},
		{"server certificate expired", pki{serverNotAfter: now.Add(-time.Minute)}, "server-cert.pem EXPIRED"},
		{"CA near expiry", pki{caNotAfter: now.Add(24 * time.Hour), serverNotAfter: now.Add(12 * time.Hour)}, "ca.pem expires in"},
		{"signed by another CA", pki{otherCA: true}, "does not chain to ca.pem"},
		{"CA key readable by others", pki{keyMode: 0o644}, "ca-key.pem is mode 0644"},
		{"server key does not match", pki{wrongKey: true}, "server-key.pem does not go with server-cert.pem"},
		{"not for the upstream address", pki{serverIP: "10.0.0.1"}, "not valid for 127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tt.pki.write(t, dir)
			problems, good := pkiProblems(dir, "127.0.0.1", now, 7*24*time.Hour)
			got := strings.Join(problems, "; ")
			if !root && tt.want == "" {
				// Keys owned by a non-root test user are reported.
				if !strings.Contains(got, "owner uid") {
					t.Fatalf("problems %q", got)
				}
				return
			}
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("problems %q, want %q (good: %v)", got, tt.want, good)
			}
			if tt.want == "" && !strings.Contains(strings.Join(good, "; "), "server-cert.pem valid until") {
				t.Errorf("good %v", good)
			}
		})
	}
	r := checkPKI(t.Context(), &env{opts: Options{Identity: &config.Identity{PKIDir: t.TempDir(), Upstream: "tcp://127.0.0.1:2376"}, Now: time.Now, MinCertValidity: time.Hour}})
	if r.Status != Fail || !strings.Contains(r.Detail, "CA certificate") || r.Fix == "" {
		t.Errorf("empty pki dir: %+v", r)
	}
}

// A listener without --tlsverify answers a client that has no
// certificate; dockerd's with it does not.
func TestAcceptsAnonymous(t *testing.T) {
	t.Parallel()
	ping := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("OK")) })
	verify := httptest.NewUnstartedServer(ping)
	verify.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool()}
	verify.StartTLS()
	defer verify.Close()
	open := httptest.NewTLSServer(ping)
	defer open.Close()
	plain := httptest.NewServer(ping)
	defer plain.Close()
	host := func(s *httptest.Server) string {
		return strings.TrimPrefix(strings.TrimPrefix(s.URL, "https://"), "http://")
	}
	if why := acceptsAnonymous(t.Context(), host(verify), 5*time.Second); why != "" {
		t.Errorf("tlsverify listener: %q", why)
	}
	if why := acceptsAnonymous(t.Context(), host(open), 5*time.Second); !strings.Contains(why, "--tlsverify is off") {
		t.Errorf("TLS without client auth: %q", why)
	}
	if why := acceptsAnonymous(t.Context(), host(plain), 5*time.Second); !strings.Contains(why, "plain HTTP") {
		t.Errorf("plain HTTP: %q", why)
	}
}

func TestCheckUpstream(t *testing.T) {
	t.Parallel()
	e := func(up string) *env {
		return &env{opts: Options{Identity: &config.Identity{Upstream: up}, ProcRoot: fakeProc(t, "", "", nil),
			DaemonJSON: filepath.Join(t.TempDir(), "none.json"), Timeout: time.Second}}
	}
	for up, want := range map[string]string{
		"tcp://10.0.0.5:2376":  "not a loopback address",
		"tcp://127.0.0.1":      "has no port",
		"tcp://127.0.0.1:2376": "nothing listens on 127.0.0.1:2376",
	} {
		if r := checkUpstream(t.Context(), e(up)); r.Status != Fail || !strings.Contains(r.Detail, want) || r.Fix == "" {
			t.Errorf("%s: %+v, want %q", up, r, want)
		}
	}
}
