// Package broker is dockward's identity broker: it serves the unix socket
// local users talk to (by default /var/run/docker.sock), learns who each
// caller is from the kernel (SO_PEERCRED: the uid of the process that
// connected, which the caller cannot choose), and forwards the connection
// byte for byte to dockerd's loopback TLS listener with a client
// certificate whose CN is that uid's name in the host's user database.
// dockerd then hands the authorization plugin a verified user.
//
// The broker reads nothing the client sends to decide who it is; it never
// parses the HTTP it carries (so hijacked streams — attach, exec, build,
// events, logs -f — pass through untouched), and when it cannot vouch for
// a caller or reach dockerd it answers with an HTTP error, never with a
// fallback to another socket.
package broker

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/dockward/dockward/plugin/pki"
)

// Options configure a Broker.
type Options struct {
	// Upstream is dockerd's TLS listener, host:port (tcp:// accepted).
	Upstream string
	// Minter makes the per-user client certificates.
	Minter *pki.Minter
	// RootCAs verifies dockerd's server certificate (our CA only).
	RootCAs *x509.CertPool
	// LookupUser names a uid from the host's user database (os/user when nil).
	LookupUser func(uid uint32) (string, error)
	// DialTimeout bounds the TCP connect and TLS handshake (5s when 0).
	DialTimeout time.Duration
	Log         logrus.FieldLogger
}

// Broker forwards connections; Serve runs it.
type Broker struct {
	opts     Options
	addr     string
	host     string
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
	shutdown bool
}

// New checks opts and returns a broker.
func New(opts Options) (*Broker, error) {
	addr := strings.TrimPrefix(opts.Upstream, "tcp://")
	host, _, err := net.SplitHostPort(addr)
	if err != nil || strings.Contains(addr, "/") {
		return nil, fmt.Errorf("upstream %q: expected tcp://127.0.0.1:PORT (dockerd's TLS listener)", opts.Upstream)
	}
	// Loopback only: the certificates the broker presents are the users'
	// identities, and dockerd's TLS port must not be reachable off-host.
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("upstream %q: dockerd's TLS listener must be a loopback address (tcp://127.0.0.1:PORT)", opts.Upstream)
	}
	if opts.Minter == nil || opts.RootCAs == nil {
		return nil, errors.New("broker: no CA to mint client certificates and verify dockerd with")
	}
	if opts.LookupUser == nil {
		opts.LookupUser = LookupUser
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		opts.Log = l
	}
	return &Broker{opts: opts, addr: addr, host: host, conns: map[net.Conn]struct{}{}}, nil
}

// LookupUser is uid's name in the host's user database.
func LookupUser(uid uint32) (string, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return "", err
	}
	if u.Username == "" {
		return "", fmt.Errorf("uid %d has an empty name", uid)
	}
	return u.Username, nil
}

// Listen serves path: a stale socket there (nobody accepting) is replaced;
// a live one, or anything that is not a socket, is refused. The socket is
// chowned to root:gid (gid < 0 keeps the group) and chmod 0660: only root
// and the group's members can connect.
func Listen(path string, gid int) (*net.UnixListener, error) {
	if st, err := os.Lstat(path); err == nil {
		if st.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket: move it away (the broker serves that path)", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is served by another process (docker.socket or dockerd itself?): point it elsewhere first (README, Identity)", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove the stale socket %s: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chown(path, os.Geteuid(), gid); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chown %s to group %d: %w", path, gid, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod 0660 %s: %w", path, err)
	}
	return ln, nil
}

// Serve accepts until ctx ends, then closes the listener and every
// connection it carries.
func (b *Broker) Serve(ctx context.Context, ln *net.UnixListener) error {
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.shutdown = true
		for c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		ln.Close()
	})
	defer stop()
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				b.wg.Wait()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				b.opts.Log.WithError(err).Warn("accept: out of file descriptors; retrying")
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		if !b.track(c) {
			c.Close()
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer b.untrack(c)
			b.handle(c)
		}()
	}
}

func (b *Broker) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shutdown {
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *Broker) untrack(c net.Conn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	c.Close()
}

// PeerCred is the kernel's record of who connected: pid, uid and gid at
// connect(2) time.
func PeerCred(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, cerr
}

func (b *Broker) handle(c *net.UnixConn) {
	log := b.opts.Log
	cred, err := PeerCred(c)
	if err != nil {
		log.WithError(err).Warn("refused a connection: no peer credentials")
		refuse(c, http.StatusForbidden, "dockward broker: cannot read the caller's credentials from the kernel (SO_PEERCRED): "+err.Error()+"; the request was not forwarded")
		return
	}
	log = log.WithFields(logrus.Fields{"uid": cred.Uid, "pid": cred.Pid})
	name, err := b.opts.LookupUser(cred.Uid)
	if err != nil {
		log.WithError(err).Warn("refused a connection: uid has no name in the user database")
		refuse(c, http.StatusForbidden, fmt.Sprintf("dockward broker: uid %d has no name in this host's user database (%v), and dockward never forwards a caller it cannot name: run docker as a user listed in /etc/passwd (or your NSS directory)", cred.Uid, err))
		return
	}
	log = log.WithField("user", name)
	cert, err := b.opts.Minter.Get(name)
	if err != nil {
		log.WithError(err).Error("refused a connection: cannot mint its client certificate")
		refuse(c, http.StatusInternalServerError, fmt.Sprintf("dockward broker: cannot make a client certificate for %s (%v): see the broker's log (journalctl -u dockward-broker)", name, err))
		return
	}
	up, err := b.dial(cert)
	if err != nil {
		log.WithError(err).Warn("refused a connection: dockerd's TLS listener is unreachable")
		refuse(c, http.StatusBadGateway, fmt.Sprintf("dockward broker: cannot reach dockerd at %s (%v). dockerd may be down or not listening there with TLS: check systemctl status docker and the identity settings in daemon.json (README, Identity). Nothing was forwarded, and there is no fallback.", b.addr, err))
		return
	}
	log.Debug("connection forwarded")
	start := time.Now()
	up2c, c2up := pipe(c, up)
	log.WithFields(logrus.Fields{"bytes_in": c2up, "bytes_out": up2c, "duration": time.Since(start).Round(time.Millisecond)}).Debug("connection closed")
}

func (b *Broker) dial(cert *tls.Certificate) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: b.opts.DialTimeout}
	cfg := &tls.Config{
		RootCAs: b.opts.RootCAs, ServerName: b.host, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{*cert},
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.DialTimeout)
	defer cancel()
	conn, err := (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", b.addr)
	if err != nil {
		return nil, err
	}
	return conn.(*tls.Conn), nil
}

// pipe copies both ways. A side that ends its writes cleanly (EOF) is
// half-closed on the other (CloseWrite), so that `docker attach` with
// stdin closed still reads the container's output; an error on either
// side tears both down. It returns the bytes copied each way.
func pipe(c *net.UnixConn, up *tls.Conn) (upToClient, clientToUp int64) {
	var once sync.Once
	closeBoth := func() { once.Do(func() { c.Close(); up.Close() }) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, err := io.Copy(up, c)
		clientToUp = n
		if err != nil {
			closeBoth()
			return
		}
		if up.CloseWrite() != nil {
			closeBoth()
		}
	}()
	n, err := io.Copy(c, up)
	upToClient = n
	if err != nil {
		closeBoth()
	} else if c.CloseWrite() != nil {
		closeBoth()
	} else {
		// dockerd is done; a client that keeps its side open past this
		// is idle: let it go after a while rather than hold a goroutine.
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	}
	<-done
	closeBoth()
	return upToClient, clientToUp
}

// refuse answers the request head the client sent (read and discarded,
// within a second and 64 KiB) with an HTTP error whose JSON body the
// docker CLI prints as "Error response from daemon: <message>".
func refuse(c *net.UnixConn, status int, msg string) {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(io.LimitReader(c, 64<<10))
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" || line == "\n" {
			break
		}
	}
	body, _ := json.Marshal(map[string]string{"message": msg})
	body = append(body, '\n')
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	_ = c.CloseWrite()
}
