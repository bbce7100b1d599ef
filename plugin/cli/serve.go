package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/audit"
	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/canary"
	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/control"
	"github.com/dockward/dockward/plugin/daemon"
	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/fleet"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/lookupcache"
	"github.com/dockward/dockward/plugin/metrics"
	"github.com/dockward/dockward/plugin/owner"
	"github.com/dockward/dockward/plugin/policy"
	"github.com/dockward/dockward/plugin/userdb"
)

type serveParams struct {
	configFile string
	cfg        config.Config
	cpuProfile string
	memProfile string
}

func newServe() *cobra.Command {
	return serveCommand(&serveParams{cfg: config.Default()})
}

func serveCommand(p *serveParams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Docker authorization plugin protocol on a unix socket",
		Long: `Serve the Docker authorization plugin protocol (docker.authz/1.0) on a unix
socket. dockerd finds the plugin at /run/docker/plugins/dockward.sock when it
runs with --authorization-plugin=dockward.

Settings come from the defaults, then the config file (YAML; keys socket,
policy_dir, audit_log, audit_allows, audit_max_size_mb, audit_max_backups,
eval_timeout, log_level, docker_host, lookup_timeout, metrics_addr, host_root,
read_cache_ttl, decision_cache_ttl, lookup_cache_ttl, memory_limit_mib, opa_config, bundle_fallback, bundle_allow_unsigned,
canary_interval, owner_db, owner_max_records, control_socket), then
flags; a docker host named by neither is $DOCKER_HOST, else
unix:///var/run/docker.sock. One decision, daemon lookups included, has
eval_timeout (default 5s). The policy directory is compiled at start (a
policy that does not compile stops the start) and reloaded on every change
and on SIGHUP; a change that does not compile keeps the last good policy.

Every canary_interval (default 5m; 0 disables) serve sends the enforcement
canary through the docker host: a privileged create of an image that does
not exist, named dockward-canary-*, which dockerd must refuse through this
plugin (it creates nothing either way). The result is the metric
dockward_canary_ok (1/0) and dockward_canary_last_run_timestamp_seconds; a
daemon that does not enforce is logged at error ("ENFORCEMENT OFF"). Each
canary is one denied create in the audit log.

Fleets: --opa-config names a standard OPA configuration file (YAML or JSON;
keys services, labels, keys, bundles, decision_logs, persistence_directory;
anything else is refused). Its bundles are polled from the bundle server
(ETags) and must be signed: a bundle without a signing block is refused at
start unless --bundle-allow-unsigned (bundle_allow_unsigned: true) opts out.
Each activated bundle is compiled with the same checks as the policy
directory; one that fails them, or a corrupt or badly signed download, keeps
the last good policy in force. Until the first bundle is in force the policy
directory decides (--bundle-fallback local) or every request is denied
(--bundle-fallback deny); once one is, the directory is no longer reloaded
(bundle wins). With decision_logs, every decision is
also sent to the collector in OPA's decision-log format, with the input
as the policy saw it (secrets redacted, no headers), through a bounded buffer: a
collector that is down never slows a decision; the audit log keeps everything.

Ownership: who created each container, service, volume and network is kept
in --owner-db (a bbolt file, 0600; at most --owner-max-records, the oldest
evicted when full: that object then belongs to nobody, admins only), and
owner_only lets a user who is not an admin act only on their own objects.
A store that cannot be opened (corrupt) is logged and every request that
needs an owner is denied naming it; everything else is served. The root-only
--control-socket (0600) is what 'dockward own' talks to.`,
		Example: `  dockward serve
  dockward serve --config /etc/dockward/config.yaml
  dockward serve --socket /run/docker/plugins/dockward.sock \
      --policy-dir ./policies --audit-log /tmp/audit.log --log-level debug
  dockward serve --opa-config /etc/dockward/opa.yaml               # fleet: bundles + decision logs
  dockward serve --opa-config /etc/dockward/opa.yaml --bundle-fallback deny
  dockward serve --owner-db /var/lib/dockward/owners.db --control-socket /run/dockward/control.sock`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return p.resolve(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.cpuProfile != "" {
				stop, err := startCPUProfile(p.cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			if p.memProfile != "" {
				defer writeHeapProfile(p.memProfile)
			}
			return serve(cmd.Context(), p.cfg)
		},
	}
	f := cmd.Flags()
	// For benchmarks (plugin/BENCHMARKS.md): where a decision's CPU goes
	// on real traffic, written when serve stops.
	f.StringVar(&p.cpuProfile, "cpu-profile", "", "write a Go CPU profile of the whole run to this file (for benchmarks)")
	_ = f.MarkHidden("cpu-profile")
	f.StringVar(&p.memProfile, "heap-profile", "", "write a Go heap profile to this file when serve stops (for benchmarks)")
	_ = f.MarkHidden("heap-profile")
	f.StringVar(&p.configFile, "config", "", "YAML config file (default "+config.DefaultFile+" if it exists)")
	f.StringVar(&p.cfg.Socket, "socket", p.cfg.Socket, "unix socket to serve the plugin on")
	f.StringVar(&p.cfg.PolicyDir, "policy-dir", p.cfg.PolicyDir, "directory of Rego policies and data.json")
	f.StringVar(&p.cfg.AuditLog, "audit-log", p.cfg.AuditLog, "audit log file (JSON lines, mode 0600, rotated by size)")
	f.BoolVar(&p.cfg.AuditAllows, "audit-allows", p.cfg.AuditAllows, "also audit allowed requests (denials are always audited)")
	f.IntVar(&p.cfg.AuditMaxSizeMB, "audit-max-size", p.cfg.AuditMaxSizeMB, "rotate the audit log at this many MiB")
	f.IntVar(&p.cfg.AuditMaxBackups, "audit-max-backups", p.cfg.AuditMaxBackups, "rotated audit logs to keep")
	f.DurationVar(&p.cfg.EvalTimeout, "eval-timeout", p.cfg.EvalTimeout, "time budget of one decision; a timeout denies")
	f.StringVar(&p.cfg.LogLevel, "log-level", p.cfg.LogLevel, "debug, info, warn or error (debug logs every input, secrets redacted)")
	f.StringVar(&p.cfg.DockerHost, "docker-host", "", "the daemon dockward guards, asked about images, containers and volumes a request names (default: docker_host from the config file, else $DOCKER_HOST, else "+config.Default().DockerHost+")")
	f.DurationVar(&p.cfg.LookupTimeout, "lookup-timeout", p.cfg.LookupTimeout, "time budget of one daemon lookup; a failed lookup denies")
	f.StringVar(&p.cfg.MetricsAddr, "metrics-addr", p.cfg.MetricsAddr, "serve Prometheus /metrics and /healthz here (\":9464\" = loopback); off when empty")
	f.DurationVar(&p.cfg.ReadCacheTTL, "read-cache-ttl", p.cfg.ReadCacheTTL, "keep decisions on reads (GET/HEAD) this long, per policy revision; 0 disables")
	f.DurationVar(&p.cfg.DecisionCacheTTL, "decision-cache-ttl", p.cfg.DecisionCacheTTL, "keep the decisions on every other request this long, keyed by policy revision and the whole input (looked-up facts included); 0 disables")
	f.DurationVar(&p.cfg.LookupCacheTTL, "lookup-cache-ttl", p.cfg.LookupCacheTTL, "keep the daemon's answers to lookups at most this long (dropped sooner by any write or daemon event that may change them, never served while the event stream is down); 0 disables")
	f.StringVar(&p.cfg.OPAConfig, "opa-config", p.cfg.OPAConfig, "standard OPA config file: policy bundles from a bundle server, remote decision logs (fleet mode)")
	f.StringVar(&p.cfg.BundleFallback, "bundle-fallback", p.cfg.BundleFallback, "what decides until the first bundle is in force: local (the policy directory) or deny (every request)")
	f.BoolVar(&p.cfg.BundleAllowUnsigned, "bundle-allow-unsigned", p.cfg.BundleAllowUnsigned, "poll bundles that are not signed (no signing block in the OPA config); refused at start without it")
	f.StringVar(&p.cfg.OwnerDB, "owner-db", p.cfg.OwnerDB, "ownership store (bbolt file): who created each container, service, volume and network")
	f.IntVar(&p.cfg.OwnerMaxRecords, "owner-max-records", p.cfg.OwnerMaxRecords, "bound of the ownership store; when full the oldest record is evicted (that object becomes admins' only)")
	f.StringVar(&p.cfg.ControlSocket, "control-socket", p.cfg.ControlSocket, "root-only unix socket (0600) that 'dockward own' talks to")
	f.DurationVar(&p.cfg.CanaryInterval, "canary-interval", p.cfg.CanaryInterval, "send the enforcement canary (a privileged create the policy denies, nothing is created) through the docker host this often; 0 disables")
	f.StringVar(&p.cfg.HostRoot, "host-root", p.cfg.HostRoot, "where the host's / is mounted (managed plugin: /host); bind sources are resolved under it. Empty: the local filesystem")
	return cmd
}

// registerLookupCache exports the lookup cache's counters: its hit rate,
// and whether it serves (it does not while the daemon's event stream is
// down: every lookup then goes to the daemon).
func registerLookupCache(m *metrics.Metrics, c *lookupcache.Cache) {
	counter := func(name, help string, f func(lookupcache.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(c.Stats())) })
	}
	for _, col := range []prometheus.Collector{
		counter("dockward_lookup_cache_hits_total", "Daemon lookups answered from the lookup cache.", func(s lookupcache.Stats) uint64 { return s.Hits }),
		counter("dockward_lookup_cache_misses_total", "Daemon lookups that went to the daemon while the cache served.", func(s lookupcache.Stats) uint64 { return s.Misses }),
		counter("dockward_lookup_cache_invalidations_total", "Writes and daemon events that dropped kept answers.", func(s lookupcache.Stats) uint64 { return s.Flushes }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dockward_lookup_cache_live", Help: "1 while the lookup cache follows the daemon's event stream and serves; 0 while the stream is down (every lookup goes to the daemon)."},
			func() float64 {
				if c.Stats().Live {
					return 1
				}
				return 0
			}),
	} {
		_ = m.Register(col)
	}
}

// writeHeapProfile writes the live heap, after a collection, to path.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	runtime.GC()
	_ = pprof.WriteHeapProfile(f)
}

// keepMemoryLimit holds the runtime's soft memory limit at base, or at
// twice the live heap plus 4 MiB when that is more (a policy or bundle
// larger than the default's), re-read every 10s: the collector runs more
// often near the limit, never continuously.
func keepMemoryLimit(ctx context.Context, base int64) {
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for {
		rtmetrics.Read(sample)
		limit := base
		if sample[0].Value.Kind() == rtmetrics.KindUint64 {
			limit = memoryLimit(base, int64(sample[0].Value.Uint64()))
		}
		debug.SetMemoryLimit(limit)
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// memoryLimit is base, or room for the live heap to double when base is
// less.
func memoryLimit(base, live int64) int64 { return max(base, 2*live+4<<20) }

// startCPUProfile profiles the process until the returned stop is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// resolve layers defaults < file < flags: the file is read first, then every
// flag the user set is applied again on top of it.
//
// docker_host alone has a step between the file and the default: the
// DOCKER_HOST environment variable, as every Docker client reads it (flag >
// file > DOCKER_HOST > unix:///var/run/docker.sock).
func (p *serveParams) resolve(cmd *cobra.Command) error {
	return p.resolveEnv(cmd, os.Getenv)
}

func (p *serveParams) resolveEnv(cmd *cobra.Command, getenv func(string) string) error {
	flagCfg := p.cfg
	cfg := config.Default()
	cfg.DockerHost = "" // known only once the file, the flag or the environment say
	path, required := config.DefaultFile, false
	if p.configFile != "" {
		path, required = p.configFile, true
	}
	if err := cfg.LoadFile(path, required); err != nil {
		return err
	}
	f := cmd.Flags()
	set := func(name string, apply func()) {
		if f.Changed(name) {
			apply()
		}
	}
	set("socket", func() { cfg.Socket = flagCfg.Socket })
	set("policy-dir", func() { cfg.PolicyDir = flagCfg.PolicyDir })
	set("audit-log", func() { cfg.AuditLog = flagCfg.AuditLog })
	set("audit-allows", func() { cfg.AuditAllows = flagCfg.AuditAllows })
	set("audit-max-size", func() { cfg.AuditMaxSizeMB = flagCfg.AuditMaxSizeMB })
	set("audit-max-backups", func() { cfg.AuditMaxBackups = flagCfg.AuditMaxBackups })
	set("eval-timeout", func() { cfg.EvalTimeout = flagCfg.EvalTimeout })
	set("log-level", func() { cfg.LogLevel = flagCfg.LogLevel })
	set("docker-host", func() { cfg.DockerHost = flagCfg.DockerHost })
	set("lookup-timeout", func() { cfg.LookupTimeout = flagCfg.LookupTimeout })
	set("metrics-addr", func() { cfg.MetricsAddr = flagCfg.MetricsAddr })
	set("host-root", func() { cfg.HostRoot = flagCfg.HostRoot })
	set("canary-interval", func() { cfg.CanaryInterval = flagCfg.CanaryInterval })
	set("read-cache-ttl", func() { cfg.ReadCacheTTL = flagCfg.ReadCacheTTL })
	set("decision-cache-ttl", func() { cfg.DecisionCacheTTL = flagCfg.DecisionCacheTTL })
	set("lookup-cache-ttl", func() { cfg.LookupCacheTTL = flagCfg.LookupCacheTTL })
	set("opa-config", func() { cfg.OPAConfig = flagCfg.OPAConfig })
	set("bundle-fallback", func() { cfg.BundleFallback = flagCfg.BundleFallback })
	set("bundle-allow-unsigned", func() { cfg.BundleAllowUnsigned = flagCfg.BundleAllowUnsigned })
	set("owner-db", func() { cfg.OwnerDB = flagCfg.OwnerDB })
	set("owner-max-records", func() { cfg.OwnerMaxRecords = flagCfg.OwnerMaxRecords })
	set("control-socket", func() { cfg.ControlSocket = flagCfg.ControlSocket })
	if cfg.DockerHost == "" {
		cfg.DockerHost = getenv("DOCKER_HOST")
	}
	if cfg.DockerHost == "" {
		cfg.DockerHost = config.Default().DockerHost
	}
	if err := cfg.Validate(); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	p.cfg = cfg
	return nil
}

func serve(ctx context.Context, cfg config.Config) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: time.RFC3339})
	level, _ := logrus.ParseLevel(cfg.LogLevel)
	log.SetLevel(level)

	if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimitMiB > 0 {
		go keepMemoryLimit(ctx, int64(cfg.MemoryLimitMiB)<<20)
	}
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New()
	}
	// Fleet mode: bundles and decision logs through OPA's plugins. The
	// config is checked before anything listens.
	var fl *fleet.Fleet
	if cfg.OPAConfig != "" {
		oc, err := fleet.LoadConfig(cfg.OPAConfig)
		if err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: %w", err)}
		}
		host, _ := os.Hostname()
		fl, err = fleet.New(fleet.Options{Config: oc, Log: log, Metrics: m, ID: host, AllowUnsigned: cfg.BundleAllowUnsigned})
		if err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: %w", err)}
		}
		if cfg.BundleFallback == fleet.FallbackDeny && !fl.HasBundles() {
			return &ExitError{Code: 2, Err: fmt.Errorf("refusing to start: bundle_fallback: deny, but %s configures no bundles", cfg.OPAConfig)}
		}
		log.WithFields(logrus.Fields{"opa_config": cfg.OPAConfig, "bundles": fl.Sources(), "decision_logs": oc.DecisionLogs, "injected": oc.Injected}).Info("fleet mode")
		if cfg.BundleAllowUnsigned && fl.HasBundles() {
			log.Warn("bundle_allow_unsigned: bundles without a signature are accepted; whoever can answer for the bundle server decides the policy")
		}
	}

	// Fail closed from the first moment: without a policy that compiles
	// there is no socket, so dockerd denies (or refuses to start). With
	// bundle_fallback: deny, nothing is in force until the first bundle.
	var compiled *policy.Compiled
	if fl != nil && cfg.BundleFallback == fleet.FallbackDeny {
		compiled = policy.Unavailable(fmt.Sprintf("no policy bundle activated yet from %s; every request is denied until one is (bundle_fallback: deny)", fl.Sources()))
		log.WithField("bundles", fl.Sources()).Warn("no policy in force until the first bundle is activated: every request is denied (bundle_fallback: deny)")
	} else {
		var err error
		if compiled, err = policy.Load(ctx, cfg.PolicyDir); err != nil {
			return fmt.Errorf("refusing to start: %w", err)
		}
		m.Reload(compiled.Source, compiled.Revision, nil)
		log.WithFields(logrus.Fields{"dir": cfg.PolicyDir, "revision": compiled.Revision, "rules": len(compiled.Rules)}).Info("policy loaded")
		warnPolicy(ctx, log, compiled)
	}
	engine := policy.NewEngine(compiled)
	if m != nil {
		addr, err := metrics.ListenAddr(cfg.MetricsAddr)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		ml, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("refusing to start: metrics listener: %w", err)
		}
		go func() {
			if err := m.Serve(ctx, ml); err != nil {
				log.WithError(err).Error("metrics listener stopped")
			}
		}()
		log.WithField("addr", ml.Addr().String()).Info("serving /metrics and /healthz")
	}

	auditLog, err := audit.Open(audit.Options{Path: cfg.AuditLog, MaxSizeMB: cfg.AuditMaxSizeMB, MaxBackups: cfg.AuditMaxBackups, Version: Version})
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	defer auditLog.Close()

	// The policy directory is watched while it is what decides; once a
	// bundle is in force the reloader leaves it alone (bundle wins).
	var reloader *policy.Reloader
	if compiled.Source == policy.SourceLocal {
		reloader = &policy.Reloader{Engine: engine, Dir: cfg.PolicyDir, Log: log, OnReload: func(c *policy.Compiled, err error) {
			if c != nil {
				m.Reload(c.Source, c.Revision, err)
			} else {
				m.Reload("", "", err)
			}
		}}
		go func() {
			if err := reloader.Watch(ctx, 250*time.Millisecond); err != nil {
				log.WithError(err).Error("cannot watch the policy directory; only SIGHUP reloads")
			}
		}()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if reloader == nil {
					log.Info("SIGHUP: no local policy to reload (bundle_fallback: deny; bundles are polled)")
					continue
				}
				_ = reloader.Reload(ctx, "SIGHUP")
			}
		}
	}()
	if fl != nil {
		if err := fl.Start(ctx, engine); err != nil {
			return fmt.Errorf("refusing to start: %w", err)
		}
		defer func() {
			// Upload what the decision log still buffers, within bounds.
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			fl.Stop(sctx)
		}()
	}

	l, err := listen(cfg.Socket)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	defer os.Remove(cfg.Socket)
	docker, err := daemon.New(cfg.DockerHost, cfg.LookupTimeout)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	defer docker.Close()
	go logEngine(ctx, log, docker)
	owners := openOwners(log, cfg)
	if st, ok := owners.(*owner.Store); ok {
		defer st.Close()
	}
	// Groups come from the host's user database, under host_root for
	// the managed plugin (which sees the host's / at /host).
	builder := input.Builder{Lookup: docker, Groups: userdb.NewHost(cfg.HostRoot), Owners: owners}
	// The daemon's answers are kept briefly, dropped on every write and
	// daemon event that may change them, and not served at all while the
	// event stream is down (lookupcache).
	var facts *lookupcache.Cache
	if cfg.LookupCacheTTL > 0 {
		facts = lookupcache.New(docker, cfg.LookupCacheTTL)
		builder.Lookup = facts
		// Said once per change of state: dockerd starts after the plugin,
		// and reconnecting to a daemon that is down is not news.
		following := false
		facts.Follow(ctx, docker.WatchEvents, func(connected bool, err error) {
			switch {
			case connected:
				log.Info("following the daemon's events: lookups are cached")
			case following:
				log.WithError(err).Warn("the daemon's event stream broke: every lookup goes to the daemon until it is back")
			default:
				log.WithError(err).Debug("no daemon event stream yet: lookups are not cached")
			}
			following = connected
		})
		if m != nil {
			registerLookupCache(m, facts)
		}
	}
	// Without its control socket the plugin still enforces everything;
	// only dockward own cannot reach it.
	if cl, err := control.Listen(cfg.ControlSocket); err != nil {
		log.WithError(err).Error("no control socket: dockward own cannot reach this process")
	} else {
		defer os.Remove(cfg.ControlSocket)
		go func() {
			srv := &control.Server{Owners: owners, Lookup: docker, Log: log}
			if err := srv.Serve(ctx, cl); err != nil {
				log.WithError(err).Error("control socket stopped; dockward own cannot reach this process")
			}
		}()
	}
	if cfg.HostRoot != "" {
		builder.Resolver = input.RootedResolver{Root: cfg.HostRoot}
	}
	opts := authz.Options{
		EvalTimeout: cfg.EvalTimeout, AuditAllows: cfg.AuditAllows, Metrics: m, ReadCacheTTL: readCacheTTL(cfg.ReadCacheTTL),
		DecisionCacheTTL: readCacheTTL(cfg.DecisionCacheTTL),
	}
	if facts != nil {
		opts.Facts = facts
	}
	if fl != nil {
		opts.OnDecision = func(r authz.Result, in *input.Input) { fl.LogDecision(decisionLog(r, in, engine)) }
	}
	plugin := authz.New(ctx, engine, builder, auditLog, log, opts)
	if err := startCanary(ctx, cfg, log, m); err != nil {
		return err
	}
	log.WithFields(logrus.Fields{"socket": cfg.Socket, "audit_log": cfg.AuditLog, "version": Version}).Info("dockward ready")
	return authz.Serve(ctx, l, plugin)
}

// openOwners opens the ownership store. One that cannot be opened is not a
// refusal to start (that would refuse every Docker call on the host, and
// leave nothing for dockward own to talk to): it is logged, and every
// request that needs an owner is denied naming the file (owner.Broken).
func openOwners(log *logrus.Logger, cfg config.Config) owner.Owners {
	st, err := owner.Open(cfg.OwnerDB, cfg.OwnerMaxRecords)
	if err != nil {
		log.WithError(err).Error("OWNERSHIP STORE UNUSABLE: every request that needs an object's owner is denied until it is fixed")
		return owner.Broken{Err: err}
	}
	st.OnEvict = func(r owner.Record) {
		log.WithFields(logrus.Fields{"kind": r.Kind, "id": r.ID, "owner": r.Owner, "created": r.Created, "max": cfg.OwnerMaxRecords}).
			Warn("OWNERSHIP STORE FULL: the oldest record was evicted; that object now belongs to nobody (admins only, or dockward own)")
	}
	n, _ := st.Len()
	log.WithFields(logrus.Fields{"path": cfg.OwnerDB, "records": n, "max": cfg.OwnerMaxRecords}).Info("ownership store open")
	return st
}

// pluginName is the name dockerd knows a plugin by: its socket's name
// (/run/docker/plugins/dockward.sock is "dockward"). A managed plugin is
// known by its reference; canary.Result.ByPlugin accepts both.
func pluginName(socket string) string {
	return strings.TrimSuffix(filepath.Base(socket), ".sock")
}

// startCanary runs the enforcement canary every canary_interval through
// docker_host, into the metrics and the log. Each canary is one denied
// create in the audit log (container_name dockward-canary-*).
func startCanary(ctx context.Context, cfg config.Config, log *logrus.Logger, m *metrics.Metrics) error {
	if cfg.CanaryInterval <= 0 {
		log.Info("enforcement canary off (canary_interval: 0)")
		return nil
	}
	c, err := canary.NewClient(cfg.DockerHost, 30*time.Second)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	l := canary.Loop{Client: c, Interval: cfg.CanaryInterval, Plugin: pluginName(cfg.Socket), Log: log,
		Report: func(ok bool, at time.Time, _ canary.Result) { m.Canary(ok, at) }}
	log.WithFields(logrus.Fields{"interval": cfg.CanaryInterval.String(), "docker_host": cfg.DockerHost}).Info("enforcement canary on")
	go l.Run(ctx)
	return nil
}

// listen opens the plugin socket, replacing a stale one but never one that a
// live process still serves.
func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("socket %s is already served by another process; stop it first", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	// Only root (dockerd) talks to the plugin.
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("chmod socket: %w", err)
	}
	return l, nil
}

// logEngine logs the version of the engine dockward guards, once it answers
// (dockerd usually starts after the plugin), warns about engines whose
// authorization plugin path has known bypasses, and sweeps the passwd
// helpers an earlier run left.
func logEngine(ctx context.Context, log *logrus.Logger, docker *daemon.Client) {
	for delay := time.Second; ; delay = min(2*delay, time.Minute) {
		engine, api, err := docker.Version(ctx)
		if err == nil {
			fields := logrus.Fields{"engine": engine, "api": api}
			if w := daemon.KnownBypass(engine); w != "" {
				log.WithFields(fields).Warn("the Docker engine has a known authorization-plugin bypass: " + w)
			} else {
				log.WithFields(fields).Info("guarding Docker engine")
			}
			// passwd helpers a crash left behind (never started, removed
			// unforced): see daemon.SweepHelpers.
			removed, err := docker.SweepHelpers(ctx)
			if err != nil {
				log.WithError(err).Warn("cannot sweep leftover passwd helper containers")
			} else if len(removed) > 0 {
				log.WithField("containers", removed).Info("removed passwd helper containers left by an earlier run")
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// readCacheTTL maps the setting (0 = off) to authz's option (negative = off).
func readCacheTTL(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// decisionLog is what the collector receives for one decision: the input
// document as the policy saw it (secrets redacted by input, no headers),
// the decision, and which policy made it.
func decisionLog(r authz.Result, in *input.Input, engine *policy.Engine) fleet.Decision {
	ev := r.Event
	d := fleet.Decision{
		ID:       r.ID,
		Time:     time.Now(),
		Result:   decisionResult(r),
		Revision: ev.PolicyRevision,
		Custom: map[string]any{
			"endpoint":       ev.Endpoint,
			"method":         ev.Method,
			"path":           ev.Path,
			"outcome":        r.Decision.Outcome(),
			"latency_ms":     float64(ev.Latency.Microseconds()) / 1000,
			"plugin_version": Version,
			// Who asked and the level that judged, as the audit record
			// has them (the input, when there is one, has them too).
			"user":   ev.User,
			"groups": nonNilS(ev.Groups),
			"level":  ev.Level,
		},
	}
	if in != nil {
		d.Input = in
	}
	if c := engine.Current(); c != nil && c.Revision == ev.PolicyRevision {
		d.Bundles = c.Bundles
		d.Custom["policy_source"] = c.Source
	}
	return d
}

// decisionResult has the shape of data.authz.decision, plus the reason of a
// denial made without a policy verdict.
func decisionResult(r authz.Result) map[string]any {
	d := r.Decision
	list := func(vs []decision.Violation) []decision.Violation {
		if vs == nil {
			return []decision.Violation{}
		}
		return vs
	}
	res := map[string]any{
		"allow":      d.Allow,
		"violations": list(d.Violations),
		"dryrun":     list(d.DryRun),
		"exempted":   list(d.Exempted),
	}
	if d.Reason != "" {
		res["reason"] = d.Reason
	}
	if d.Level != "" {
		res["level"] = d.Level
	}
	return res
}

func nonNilS(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
