package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/broker"
	"github.com/dockward/dockward/plugin/pki"
)

func newBroker() *cobra.Command {
	p := newIdentityParams()
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Serve the docker socket and forward each caller to dockerd under their own name (TLS client certificate)",
		Long: `The identity broker (README, "Identity"). It serves --socket (by default
/var/run/docker.sock, root:docker 0660, so the docker CLI, Compose and SDKs
work unchanged), reads each caller's uid from the kernel (SO_PEERCRED), names
it from the host's user database, and forwards the connection byte for byte to
dockerd's TLS listener (--upstream, loopback) with a client certificate whose
CN is that name, signed by the local CA in --pki-dir. dockerd hands the name
to dockward's policy as the user. Hijacked streams (attach, exec, build,
events, logs -f) pass through untouched.

It trusts nothing the client sends about who it is. A uid without a name gets
a 403 and is not forwarded; when dockerd cannot be reached the caller gets a
502 saying so: there is no fallback to dockerd's own (root-only) socket.
The CA key must be 0600 and owned by the broker's user (root); the broker
refuses to start otherwise. Settings: defaults < the config file's identity:
block < flags. Log level debug logs each connection (uid, user; never payload).`,
		Example: `  # what the systemd unit runs
  dockward broker --config /etc/dockward/config.yaml

  # by hand, against a test dockerd
  dockward broker --socket /tmp/dw/docker.sock --socket-group docker \
      --upstream tcp://127.0.0.1:12376 --pki-dir /tmp/dw/pki --log-level debug`,
		Args:    cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error { return p.resolve(cmd) },
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runBroker(ctx, p)
		},
	}
	p.bind(cmd.Flags(), "config", "socket", "socket-group", "upstream", "pki-dir", "client-cert-ttl", "log-level")
	return cmd
}

func runBroker(ctx context.Context, p *identityParams) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: time.RFC3339})
	level, err := logrus.ParseLevel(p.logLevel)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("invalid --log-level %q: expected debug, info, warn or error", p.logLevel)}
	}
	log.SetLevel(level)
	id := p.id

	ca, err := pki.Load(id.PKIDir, time.Now())
	if errors.Is(err, os.ErrNotExist) {
		return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: %w (make the PKI with `dockward identity init`)", err)}
	}
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: %w", err)}
	}
	// The broker does not use dockerd's key, but a readable one is a
	// leak the operator must hear about before users rely on this.
	if key := filepath.Join(id.PKIDir, pki.ServerKeyFile); fileExists(key) {
		if err := pki.CheckPrivate(key); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: %w", err)}
		}
	}
	g, err := user.LookupGroup(id.SocketGroup)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: socket group %q: %w (groupadd %s, or set identity.socket_group)", id.SocketGroup, err, id.SocketGroup)}
	}
	gid, _ := strconv.Atoi(g.Gid)
	b, err := broker.New(broker.Options{Upstream: id.Upstream, Minter: pki.NewMinter(ca, id.ClientCertTTL), RootCAs: ca.Pool(), Log: log})
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: %w", err)}
	}
	ln, err := broker.Listen(id.Socket, gid)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	log.WithFields(logrus.Fields{"socket": id.Socket, "group": id.SocketGroup, "upstream": id.Upstream, "pki_dir": id.PKIDir,
		"client_cert_ttl": id.ClientCertTTL}).Info("identity broker serving")
	err = b.Serve(ctx, ln)
	log.Info("identity broker stopped")
	return err
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
