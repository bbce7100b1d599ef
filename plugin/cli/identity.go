package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/daemonconfig"
	"github.com/dockward/dockward/plugin/pki"
)

// identityParams is the identity layout: defaults < config file (the
// identity: block) < flags, shared by broker, identity and daemon-config.
type identityParams struct {
	configFile string
	id         config.Identity
	logLevel   string
}

func newIdentityParams() *identityParams {
	return &identityParams{id: config.DefaultIdentity(), logLevel: "info"}
}

// bind registers the flags of names (long flag names).
func (p *identityParams) bind(f *pflag.FlagSet, names ...string) {
	d := config.DefaultIdentity()
	for _, n := range names {
		switch n {
		case "config":
			f.StringVar(&p.configFile, "config", "", "YAML config file whose identity: block is read (default "+config.DefaultFile+" if it exists)")
		case "socket":
			f.StringVar(&p.id.Socket, n, d.Socket, "the socket users talk to (served by the broker, root:<socket-group> 0660)")
		case "socket-group":
			f.StringVar(&p.id.SocketGroup, n, d.SocketGroup, "group allowed to connect to --socket")
		case "upstream":
			f.StringVar(&p.id.Upstream, n, d.Upstream, "dockerd's TLS listener (loopback only)")
		case "raw-socket":
			f.StringVar(&p.id.RawSocket, n, d.RawSocket, "dockerd's own unix socket (root only)")
		case "pki-dir":
			f.StringVar(&p.id.PKIDir, n, d.PKIDir, "directory of ca.pem, ca-key.pem, server-cert.pem, server-key.pem")
		case "client-cert-ttl":
			f.DurationVar(&p.id.ClientCertTTL, n, d.ClientCertTTL, "life of the per-user client certificates the broker mints (re-minted with a third left)")
		case "log-level":
			f.StringVar(&p.logLevel, n, p.logLevel, "debug (one line per connection: uid and user, never payload), info, warn or error")
		}
	}
}

// resolve fills p.id and refuses an unsafe layout (config.Identity.Check).
func (p *identityParams) resolve(cmd *cobra.Command) error {
	return p.resolveWith(cmd, config.Identity.Check)
}

// resolveWith is resolve with the given check of the layout.
func (p *identityParams) resolveWith(cmd *cobra.Command, check func(config.Identity) error) error {
	flags := p.id
	cfg := config.Default()
	path, required := config.DefaultFile, false
	if p.configFile != "" {
		path, required = p.configFile, true
	}
	if err := cfg.LoadFile(path, required); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	// Without an identity: section the defaults apply: the broker and
	// identity init may run before install.sh writes it.
	id := config.DefaultIdentity()
	if cfg.Identity != nil {
		id = cfg.Identity.WithDefaults()
	}
	f := cmd.Flags()
	set := func(name string, apply func()) {
		if f.Lookup(name) != nil && f.Changed(name) {
			apply()
		}
	}
	set("socket", func() { id.Socket = flags.Socket })
	set("socket-group", func() { id.SocketGroup = flags.SocketGroup })
	set("upstream", func() { id.Upstream = flags.Upstream })
	set("raw-socket", func() { id.RawSocket = flags.RawSocket })
	set("pki-dir", func() { id.PKIDir = flags.PKIDir })
	set("client-cert-ttl", func() { id.ClientCertTTL = flags.ClientCertTTL })
	if f.Lookup("log-level") != nil && !f.Changed("log-level") {
		p.logLevel = cfg.LogLevel
	}
	if err := check(id); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	p.id = id
	return nil
}

func (p *identityParams) daemonIdentity() daemonconfig.Identity {
	return daemonconfig.Identity{RawSocket: p.id.RawSocket, Upstream: p.id.Upstream, PKIDir: p.id.PKIDir}
}

func newIdentity() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Make the identity broker's local CA and dockerd's TLS certificate",
		Long: `Manage the PKI of the identity broker (README, "Identity").

identity init creates, in pki_dir (default /etc/dockward/identity), a local CA
(ca.pem, ca-key.pem 0600) unless one is there, and dockerd's server certificate
for the upstream address (server-cert.pem, server-key.pem), renewing it when it
expires within 30 days, is for another address or another CA. A key file that
others can read is refused. It prints the daemon.json settings dockerd needs;
install/install.sh --identity merges them (dockward daemon-config enable
--identity). After a renewal, restart dockerd: it reads its certificate at
start only. Client certificates are never written: the broker mints them.`,
		Example: `  dockward identity init
  dockward identity init --pki-dir /etc/dockward/identity --upstream tcp://127.0.0.1:2376`,
	}
	p := newIdentityParams()
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create (or load) the CA, create or renew dockerd's certificate, print daemon.json settings",
		Example: `  sudo dockward identity init
  sudo dockward identity init --pki-dir /tmp/pki --upstream tcp://127.0.0.1:12376 --raw-socket /tmp/root.sock`,
		Args:    cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error { return p.resolve(cmd) },
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			now := time.Now()
			ca, created, err := pki.Init(p.id.PKIDir, now)
			if err != nil {
				return err
			}
			verb := "loaded"
			if created {
				verb = "created"
			}
			fmt.Fprintf(out, "CA %s: %s/%s (valid until %s)\n", verb, p.id.PKIDir, pki.CAFile, ca.Cert.NotAfter.UTC().Format(time.DateOnly))
			host, _, _ := net.SplitHostPort(strings.TrimPrefix(p.id.Upstream, "tcp://"))
			state, why, err := ca.EnsureServer(p.id.PKIDir, net.ParseIP(host), pki.ServerRenewBefore, now)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("server certificate for %s %s: %s/%s", host, state, p.id.PKIDir, pki.ServerCertFile)
			if state == pki.ServerRenewed {
				line += " (" + why + "); restart dockerd to use it"
			}
			fmt.Fprintln(out, line)
			b, _ := json.MarshalIndent(p.daemonIdentity().Settings(), "", "  ")
			fmt.Fprintf(out, "daemon.json settings (merge with: dockward daemon-config enable --identity):\n%s\n", b)
			return nil
		},
	}
	p.bind(initCmd.Flags(), "config", "pki-dir", "upstream", "raw-socket")
	cmd.AddCommand(initCmd)
	return cmd
}
