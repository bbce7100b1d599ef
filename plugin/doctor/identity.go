package doctor

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fileOwner is what the mode checks need of a file.
type fileOwner struct {
	mode     fs.FileMode
	uid, gid uint32
}

func statOwner(path string) (fileOwner, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileOwner{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileOwner{}, fmt.Errorf("stat %s: no owner information", path)
	}
	return fileOwner{mode: fi.Mode(), uid: st.Uid, gid: st.Gid}, nil
}

// rootOnlySocket says what is wrong with dockerd's raw socket: it must be
// a socket that only root can open (0600 root, or 0660 root:root), since
// whoever opens it talks to dockerd without the broker: as nobody, and
// with full root power on the host.
func rootOnlySocket(f fileOwner) []string {
	var bad []string
	if f.mode.Type() != fs.ModeSocket {
		bad = append(bad, fmt.Sprintf("it is not a socket (%s)", f.mode.Type()))
	}
	if f.uid != 0 {
		bad = append(bad, fmt.Sprintf("it is owned by uid %d, not root", f.uid))
	}
	perm := f.mode.Perm()
	switch {
	case perm&0o007 != 0:
		bad = append(bad, fmt.Sprintf("mode %04o lets every local user connect", perm))
	case perm&0o070 != 0 && f.gid != 0:
		bad = append(bad, fmt.Sprintf("mode %04o lets group %d connect", perm, f.gid))
	}
	return bad
}

func checkRawSocket(_ context.Context, e *env) Result {
	id := e.opts.Identity
	f, err := statOwner(id.RawSocket)
	if err != nil {
		return fail(fmt.Sprintf("cannot stat dockerd's raw socket %s: %v", id.RawSocket, err),
			"dockerd must listen on it (daemon.json hosts: unix://"+id.RawSocket+"); install/install.sh --identity sets this up")
	}
	if bad := rootOnlySocket(f); len(bad) > 0 {
		return fail(fmt.Sprintf("%s is not root-only: %s — whoever can open it talks to dockerd without the broker, as nobody", id.RawSocket, strings.Join(bad, "; ")),
			fmt.Sprintf("chown root:root %s && chmod 0600 %s (and set dockerd's \"group\" to root so a restart keeps it)", id.RawSocket, id.RawSocket))
	}
	found := fmt.Sprintf("%s is a socket, owner root, mode %04o", id.RawSocket, f.mode.Perm())
	if want := "unix://" + id.RawSocket; e.opts.DockerHost != want {
		return warn(found+"; but dockward's own docker_host is "+e.opts.DockerHost+", not "+want,
			"set docker_host: "+want+" so the plugin's lookups go to dockerd directly, not through the broker")
	}
	return ok(found)
}

// listener is one listening TCP socket.
type listener struct {
	addr  net.IP
	port  int
	inode string
}

// listeners reads the LISTEN sockets of /proc/net/tcp and tcp6.
func listeners(procRoot string) ([]listener, error) {
	var out []listener
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(procRoot, "net", name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && name == "tcp6" {
				continue // no IPv6
			}
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" { // 0A: TCP_LISTEN
				continue
			}
			ip, port, err := parseProcAddr(fs[1])
			if err != nil {
				continue
			}
			out = append(out, listener{addr: ip, port: port, inode: fs[9]})
		}
		f.Close()
	}
	return out, nil
}

// parseProcAddr reads "0100007F:0948" (little-endian 32-bit words).
func parseProcAddr(s string) (net.IP, int, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, fmt.Errorf("bad address %q", s)
	}
	b, err := hex.DecodeString(hexIP)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, 0, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return nil, 0, fmt.Errorf("bad port %q", s)
	}
	return net.IP(b), int(port), nil
}

// socketOwners maps socket inodes to the pids that hold them.
func socketOwners(procRoot string) map[string][]int {
	owners := map[string][]int{}
	dirs, _ := os.ReadDir(procRoot)
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join(procRoot, d.Name(), "fd"))
		for _, fd := range fds {
			l, err := os.Readlink(filepath.Join(procRoot, d.Name(), "fd", fd.Name()))
			if err != nil {
				continue
			}
			if in, ok := strings.CutPrefix(l, "socket:["); ok {
				in = strings.TrimSuffix(in, "]")
				owners[in] = append(owners[in], pid)
			}
		}
	}
	return owners
}

// errNoOwner: something listens on the port, but which process holds it
// cannot be read (another user's /proc/<pid>/fd).
var errNoOwner = errors.New("a socket listens there, but the process that holds it cannot be read (run dockward doctor as root)")

// exposedListeners finds the process that listens on port (dockerd's TLS
// listener) and returns every TCP address it listens on beyond loopback;
// pid 0 when nothing listens on the port.
func exposedListeners(procRoot string, port int) (pid int, exposed []string, err error) {
	ls, err := listeners(procRoot)
	if err != nil {
		return 0, nil, err
	}
	owners := socketOwners(procRoot)
	listening := false
	for _, l := range ls {
		if l.port != port {
			continue
		}
		listening = true
		if len(owners[l.inode]) > 0 {
			pid = owners[l.inode][0]
			break
		}
	}
	if pid == 0 {
		if listening {
			return 0, nil, errNoOwner
		}
		return 0, nil, nil
	}
	for _, l := range ls {
		held := false
		for _, p := range owners[l.inode] {
			held = held || p == pid
		}
		if held && !l.addr.IsLoopback() {
			exposed = append(exposed, net.JoinHostPort(l.addr.String(), strconv.Itoa(l.port)))
		}
	}
	sort.Strings(exposed)
	return pid, exposed, nil
}

// exposedHosts are the tcp:// entries of daemon.json's hosts that are not
// on loopback.
func exposedHosts(daemonJSON string) ([]string, error) {
	b, err := os.ReadFile(daemonJSON)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Hosts []string `json:"hosts"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", daemonJSON, err)
	}
	var out []string
	for _, h := range cfg.Hosts {
		if !strings.HasPrefix(h, "tcp://") && !strings.HasPrefix(h, "fd://") && strings.Contains(h, "://") {
			continue // unix://, npipe://
		}
		if strings.HasPrefix(h, "fd://") {
			continue
		}
		hp := strings.TrimPrefix(h, "tcp://")
		host, _, err := net.SplitHostPort(hp)
		if err != nil {
			host = hp
		}
		if !loopbackHost(host) {
			out = append(out, h)
		}
	}
	return out, nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func checkUpstream(ctx context.Context, e *env) Result {
	id := e.opts.Identity
	u, err := url.Parse(id.Upstream)
	if err != nil || u.Scheme != "tcp" {
		return fail(fmt.Sprintf("identity.upstream %q is not tcp://HOST:PORT", id.Upstream), "set identity.upstream: tcp://127.0.0.1:2376")
	}
	host, portStr, err := net.SplitHostPort(u.Host)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil {
		return fail(fmt.Sprintf("identity.upstream %q has no port", id.Upstream), "set identity.upstream: tcp://127.0.0.1:2376")
	}
	if !loopbackHost(host) {
		return fail(fmt.Sprintf("identity.upstream %s is not a loopback address: dockerd's TLS listener would be reachable from the network", id.Upstream),
			"listen on 127.0.0.1 only (identity.upstream and daemon.json hosts: tcp://127.0.0.1:PORT)")
	}
	var problems []string
	pid, exposed, err := exposedListeners(e.opts.ProcRoot, port)
	switch {
	case err != nil:
		problems = append(problems, "cannot tell what else the listener's process listens on: "+err.Error())
	case pid == 0:
		return fail(fmt.Sprintf("nothing listens on %s: dockerd's TLS listener is not up, so the broker cannot forward", u.Host),
			"dockerd needs hosts: [\"unix://"+id.RawSocket+"\", \""+id.Upstream+"\"] with tlsverify (install/install.sh --identity), then systemctl restart docker")
	case len(exposed) > 0:
		problems = append(problems, fmt.Sprintf("the process that serves it (pid %d) also listens on %s: whoever reaches that skips the broker", pid, strings.Join(exposed, ", ")))
	}
	if hosts, err := exposedHosts(e.opts.DaemonJSON); err != nil {
		problems = append(problems, err.Error())
	} else if len(hosts) > 0 {
		problems = append(problems, fmt.Sprintf("%s hosts has %s, not on loopback", e.opts.DaemonJSON, strings.Join(hosts, ", ")))
	}
	if why := acceptsAnonymous(ctx, u.Host, e.opts.Timeout); why != "" {
		problems = append(problems, why)
	}
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "),
			"dockerd must listen on TCP only at "+u.Host+" with --tlsverify (daemon.json: \"tlsverify\": true, tlscacert, tlscert, tlskey; hosts without other tcp:// entries), then systemctl restart docker")
	}
	return ok(fmt.Sprintf("%s is loopback; dockerd (pid %d) listens on no other TCP address, and refuses a client without a certificate", u.Host, pid))
}

// acceptsAnonymous says why addr answers a caller without a client
// certificate ("" when it refuses one, as --tlsverify does).
func acceptsAnonymous(ctx context.Context, addr string, timeout time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // probing client auth, not trusting the server
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			// Not TLS at all: does it answer plain HTTP?
			if answersPlain(ctx, addr) {
				return addr + " answers plain HTTP without TLS: anyone on the host can talk to dockerd as nobody"
			}
		}
		return ""
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")); err != nil {
		return ""
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/") {
		return "" // refused after the handshake (TLS 1.3 reports a missing certificate here)
	}
	return addr + " answers a TLS client without a certificate (" + strings.TrimSpace(line) + "): --tlsverify is off, so anyone can connect and the CN proves nothing"
}

func answersPlain(ctx context.Context, addr string) bool {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "HTTP/1.1 200")
}

// PKI file names in identity.pki_dir.
const (
	caCert     = "ca.pem"
	caKey      = "ca-key.pem"
	serverCert = "server-cert.pem"
	serverKey  = "server-key.pem"
)

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// pkiProblems checks the identity PKI in dir at now: every problem found,
// and what is fine.
func pkiProblems(dir, upstreamHost string, now time.Time, minValidity time.Duration) (problems []string, good []string) {
	validity := func(name string, c *x509.Certificate) {
		switch left := c.NotAfter.Sub(now); {
		case now.Before(c.NotBefore):
			problems = append(problems, fmt.Sprintf("%s is not valid before %s (clock?)", name, c.NotBefore.UTC().Format(time.RFC3339)))
		case left <= 0:
			problems = append(problems, fmt.Sprintf("%s EXPIRED on %s", name, c.NotAfter.UTC().Format(time.RFC3339)))
		case left < minValidity:
			problems = append(problems, fmt.Sprintf("%s expires in %s (%s), within %s", name, span(left), c.NotAfter.UTC().Format(time.RFC3339), span(minValidity)))
		default:
			good = append(good, fmt.Sprintf("%s valid until %s (%d days)", name, c.NotAfter.UTC().Format("2006-01-02"), int(left.Hours()/24)))
		}
	}
	ca, err := readCert(filepath.Join(dir, caCert))
	if err != nil {
		return append(problems, "CA certificate: "+err.Error()), good
	}
	if !ca.IsCA || !ca.BasicConstraintsValid {
		problems = append(problems, caCert+" is not a CA certificate")
	}
	validity(caCert, ca)
	srv, err := readCert(filepath.Join(dir, serverCert))
	if err != nil {
		problems = append(problems, "server certificate: "+err.Error())
	} else {
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		// Chain and usage at a time inside both validity windows, so that
		// an expiry is reported once, by validity, not as a chain error.
		at := now
		if srv.NotAfter.Before(at) {
			at = srv.NotAfter.Add(-time.Second)
		}
		if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			problems = append(problems, serverCert+" does not chain to "+caCert+" for server use: "+err.Error())
		}
		if upstreamHost != "" && srv.VerifyHostname(upstreamHost) != nil {
			problems = append(problems, fmt.Sprintf("%s is not valid for %s (the broker connects there)", serverCert, upstreamHost))
		}
		validity(serverCert, srv)
	}
	missing := map[string]bool{}
	pair := func(cert, key string) {
		if missing[key] {
			return // already reported
		}
		if _, err := tls.LoadX509KeyPair(filepath.Join(dir, cert), filepath.Join(dir, key)); err != nil {
			problems = append(problems, fmt.Sprintf("%s does not go with %s: %v", key, cert, err))
		}
	}
	for _, k := range []string{caKey, serverKey} {
		f, err := statOwner(filepath.Join(dir, k))
		if err != nil {
			problems = append(problems, k+": "+err.Error())
			missing[k] = true
			continue
		}
		if f.uid != 0 || f.mode.Perm()&0o077 != 0 {
			problems = append(problems, fmt.Sprintf("%s is mode %04o owner uid %d: a key must be 0600 root (whoever reads %s can mint any identity)", k, f.mode.Perm(), f.uid, caKey))
		}
	}
	pair(caCert, caKey)
	if srv != nil {
		pair(serverCert, serverKey)
	}
	if len(problems) == 0 {
		good = append(good, "keys 0600 root")
	}
	return problems, good
}

// span is a duration as an operator reads a certificate's: days, or hours.
func span(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%dh", int(d.Hours()))
}

func checkPKI(_ context.Context, e *env) Result {
	id := e.opts.Identity
	host := ""
	if u, err := url.Parse(id.Upstream); err == nil {
		host = u.Hostname()
	}
	problems, good := pkiProblems(id.PKIDir, host, e.opts.Now(), e.opts.MinCertValidity)
	if len(problems) > 0 {
		return fail(id.PKIDir+": "+strings.Join(problems, "; "),
			"renew or remake the identity PKI (install/install.sh --identity makes it: ca.pem, ca-key.pem and server-key.pem 0600 root), then systemctl restart docker dockward-broker")
	}
	return ok(id.PKIDir + ": " + strings.Join(good, "; "))
}
