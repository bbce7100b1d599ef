package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/canary"
	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/doctor"
)

type doctorParams struct {
	serve       serveParams // the config file and the flags serve shares
	pluginName  string
	asUser      string
	jsonOut     bool
	minValidity time.Duration
	timeout     time.Duration
	daemonJSON  string
}

func newDoctor() *cobra.Command {
	p := &doctorParams{serve: serveParams{cfg: config.Default()}}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the live installation end to end and say what to fix",
		Long: `Check the installation that serve's configuration describes (the same
config file and flags: socket, docker_host, audit_log, identity:) and say, for
every check that fails, what is wrong and what to do:

  plugin answers      the plugin socket answers Plugin.Activate (implements authz)
  plugin judges       the plugin allows a harmless read and denies a privileged create
  engine version      dockerd's version, and the authorization-plugin CVEs it is open to
  dockerd configured  dockerd lists the plugin in its authorization plugins (GET /info)
  dockerd enforces    the canary: a privileged create of an image that does not exist,
                      sent through dockerd, is refused by the plugin (403). A daemon that
                      answers 404 "no such image" went on to the create: configured or
                      not, it does NOT enforce. Nothing is created either way (a canary
                      that is created is removed and reported).

With identity on (an identity: section in the config), also: dockerd's raw
socket is root-only; its TLS listener is on loopback only, refuses clients
without a certificate, and dockerd listens on no other TCP address; the
certificates in pki_dir chain to ca.pem and are not within --min-cert-validity
of expiry, their keys 0600 root; and a non-root caller (--as-user, else
$SUDO_USER, else the first member of the docker group) who sends the canary
through the broker is audited under their own name.

The canary and the plugin check each leave one denied create in the audit
log, named dockward-canary-*. Run as root (the sockets are root-only).
Exit status: 0 when no check failed (warnings do not fail), 1 when one did,
2 for a bad configuration.`,
		Example: `  sudo dockward doctor
  sudo dockward doctor --json | jq '.checks[] | select(.status == "fail")'
  sudo dockward doctor --config /etc/dockward/config.yaml --as-user alice
  dockward doctor --socket /run/docker/plugins/dockward.sock --docker-host unix:///var/run/docker.sock
  dockward doctor --plugin-name dockward:latest     # a managed plugin`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return p.serve.resolve(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return p.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	sp := &p.serve
	f.StringVar(&sp.configFile, "config", "", "YAML config file, as serve reads it (default "+config.DefaultFile+" if it exists)")
	f.StringVar(&sp.cfg.Socket, "socket", sp.cfg.Socket, "the plugin's unix socket (when nothing is there, the one managed plugin's /run/docker/plugins/<id>/<same name> is used)")
	f.StringVar(&sp.cfg.DockerHost, "docker-host", "", "the daemon dockward guards (default: docker_host from the config file, else $DOCKER_HOST, else "+config.Default().DockerHost+")")
	f.StringVar(&sp.cfg.AuditLog, "audit-log", sp.cfg.AuditLog, "the plugin's audit log (the identity check reads the caller's record there)")
	f.StringVar(&p.pluginName, "plugin-name", "", "the name dockerd knows the plugin by (default: the socket's name, dockward for dockward.sock)")
	f.StringVar(&p.asUser, "as-user", "", "with identity on: the non-root user (in the docker group) to send the canary as (default $SUDO_USER, else the docker group's first member)")
	f.BoolVar(&p.jsonOut, "json", false, "print the report as JSON")
	f.DurationVar(&p.minValidity, "min-cert-validity", 7*24*time.Hour, "with identity on: fail for a certificate that expires sooner than this")
	f.DurationVar(&p.timeout, "timeout", 10*time.Second, "time budget of each call to the plugin or the daemon")
	f.StringVar(&p.daemonJSON, "daemon-json", "/etc/docker/daemon.json", "with identity on: dockerd's daemon.json, whose hosts must not listen beyond loopback")
	cmd.AddCommand(newDoctorProbe())
	return cmd
}

func (p *doctorParams) run(ctx context.Context, w io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := p.serve.cfg
	name := p.pluginName
	if name == "" {
		name = pluginName(cfg.Socket)
	}
	o := doctor.Options{
		PluginName: name, PluginSocket: doctor.ResolveSocket(cfg.Socket), DockerHost: cfg.DockerHost, AuditLog: cfg.AuditLog,
		AsUser: p.asUser, MinCertValidity: p.minValidity, Timeout: p.timeout, DaemonJSON: p.daemonJSON,
	}
	if cfg.Identity != nil {
		id := cfg.Identity.WithDefaults()
		o.Identity = &id
	}
	rep := doctor.Run(ctx, o)
	if p.jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeReport(w, rep)
	}
	if !rep.OK {
		return &ExitError{Code: 1, Err: errors.New("dockward doctor: a check failed"), Silent: true}
	}
	return nil
}

func writeReport(w io.Writer, rep doctor.Report) {
	identity := "off"
	if rep.Identity {
		identity = "on"
	}
	fmt.Fprintf(w, "dockward doctor: plugin %s (socket %s), dockerd %s, identity %s\n\n", rep.Plugin, rep.Socket, rep.DockerHost, identity)
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.Title))
	}
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "  %-4s  %-*s  %s\n", strings.ToUpper(string(c.Status)), width, c.Title, c.Detail)
		if c.Fix != "" && c.Status != doctor.OK {
			fmt.Fprintf(w, "        %*s  fix: %s\n", width, "", c.Fix)
		}
	}
	n := rep.Counts()
	verdict := "all good"
	switch {
	case n[doctor.Fail] > 0:
		verdict = "FAILED"
	case n[doctor.Warn] > 0:
		verdict = "passed with warnings"
	}
	fmt.Fprintf(w, "\n%d checks: %d ok, %d warn, %d failed, %d skipped — %s\n",
		len(rep.Checks), n[doctor.OK], n[doctor.Warn], n[doctor.Fail], n[doctor.Skip], verdict)
}

// newDoctorProbe is the child the identity check runs as another user: it
// sends one canary to --docker-host and prints the result as JSON.
func newDoctorProbe() *cobra.Command {
	var host string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:     "probe",
		Short:   "Send one enforcement canary and print the result as JSON (run by doctor as another user)",
		Hidden:  true,
		Example: `  dockward doctor probe --docker-host unix:///var/run/docker.sock`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := canary.NewClient(host, timeout)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(canary.Send(ctx, c))
		},
	}
	cmd.Flags().StringVar(&host, "docker-host", config.Default().DockerHost, "where to send the canary")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "time budget of the request")
	return cmd
}
