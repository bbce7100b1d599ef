// Package metrics exposes dockward's Prometheus metrics and a health
// endpoint on an optional listener: decisions by result and rule, decision
// latency, the policy in force (local or bundle) and the last reload, audit
// write errors, the status of every policy bundle and of the decision log.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockward/dockward/plugin/decision"
)

// Metrics records what the plugin decides. A nil *Metrics records nothing.
type Metrics struct {
	reg         *prometheus.Registry
	decisions   *prometheus.CounterVec
	violations  *prometheus.CounterVec
	latency     prometheus.Histogram
	revision    *prometheus.GaugeVec
	reloadOK    prometheus.Gauge
	reloadTime  prometheus.Gauge
	auditErrors prometheus.Counter
	policyOK    atomic.Bool
	// byLevel and byUser count denials by the level that judged and by
	// user. They are apart from dockward_decisions_total because a user
	// label there would multiply every endpoint series by every user: the
	// level has three values, but users are any CN a TLS client presents
	// (a remote user, or every uid on a shared host), so byUser keeps at
	// most MaxUserSeries names and counts the rest as "other".
	byLevel *prometheus.CounterVec
	byUser  *prometheus.CounterVec
	usersMu sync.Mutex
	users   map[string]bool

	bundleRequest    *prometheus.GaugeVec
	bundleDownload   *prometheus.GaugeVec
	bundleActivation *prometheus.GaugeVec
	bundleOK         *prometheus.GaugeVec
	bundleInfo       *prometheus.GaugeVec
	logQueueDrops    prometheus.Counter

	// The canary's gauges appear with its first run: a 0 before any run
	// would read as "enforcement off".
	canaryOnce sync.Once
	canaryOK   prometheus.Gauge
	canaryTime prometheus.Gauge
}

// New registers dockward's metrics in a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dockward_decisions_total", Help: "Decisions by result (allow, deny, dryrun-deny) and endpoint.",
		}, []string{"result", "endpoint"}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dockward_violations_total", Help: "Rule violations by rule id and how they were handled (enforced, dryrun, exempted).",
		}, []string{"rule", "handling"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dockward_decision_duration_seconds", Help: "Time to decide one request (normalize, look up, evaluate, audit).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		revision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dockward_policy_info", Help: "The policy in force: 1 for its source (local: the policy directory; bundle) and revision (sha256 of the policy files; bundles: name@revision/sha256).",
		}, []string{"source", "revision"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dockward_policy_last_reload_success", Help: "1 if the last policy (re)load succeeded, 0 if it failed and the previous policy stayed in force.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dockward_policy_last_reload_timestamp_seconds", Help: "When the policy was last (re)loaded or a reload was attempted.",
		}),
		auditErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dockward_audit_write_errors_total", Help: "Audit records that could not be written.",
		}),
	}
	bundle := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"name"})
	}
	m.byLevel = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dockward_level_decisions_total", Help: "Decisions by the level that judged (privileged, baseline, restricted; none without a policy verdict) and result.",
	}, []string{"level", "result"})
	m.byUser = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dockward_user_denials_total", Help: fmt.Sprintf("Denials by user (\"\" for the unnamed caller); after %d distinct users, the others are counted as \"other\" so the series stay bounded.", MaxUserSeries),
	}, []string{"user"})
	m.users = map[string]bool{}
	m.bundleRequest = bundle("dockward_bundle_last_request_timestamp_seconds", "When the bundle server was last polled for this bundle.")
	m.bundleDownload = bundle("dockward_bundle_last_successful_download_timestamp_seconds", "When this bundle was last downloaded (a 304 Not Modified is not a download).")
	m.bundleActivation = bundle("dockward_bundle_last_activation_timestamp_seconds", "When a revision of this bundle was last put in force (compiled by dockward).")
	m.bundleOK = bundle("dockward_bundle_last_request_success", "1 if the last poll of this bundle ended well (activated, or not modified), 0 if it failed (download, signature, corrupt tarball or dockward's compile): the last good policy stays in force.")
	m.bundleInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dockward_bundle_info", Help: "1 for the manifest revision of each bundle in force.",
	}, []string{"name", "revision"})
	m.logQueueDrops = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "dockward_decision_log_queue_dropped_total", Help: "Decisions not handed to the decision-log plugin because its queue was full (the local audit log still has them).",
	})
	m.reg.MustRegister(m.decisions, m.violations, m.byLevel, m.byUser, m.latency, m.revision, m.reloadOK, m.reloadTime, m.auditErrors,
		m.bundleRequest, m.bundleDownload, m.bundleActivation, m.bundleOK, m.bundleInfo, m.logQueueDrops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MaxUserSeries bounds dockward_user_denials_total: the first this many
// users denied get a series of their own (until the plugin restarts).
const MaxUserSeries = 100

// OtherUsers is the user label of denials past MaxUserSeries users.
const OtherUsers = "other"

// Decision records one decision. The user is d.User (the input's).
func (m *Metrics) Decision(endpoint string, d decision.Decision, took time.Duration) {
	if m == nil {
		return
	}
	if endpoint == "" {
		endpoint = "unknown"
	}
	m.decisions.WithLabelValues(d.Outcome(), endpoint).Inc()
	level := d.Level
	if level == "" {
		level = "none"
	}
	m.byLevel.WithLabelValues(level, d.Outcome()).Inc()
	if !d.Allow {
		m.byUser.WithLabelValues(m.userLabel(d.User)).Inc()
	}
	m.latency.Observe(took.Seconds())
	for handling, vs := range map[string][]decision.Violation{"enforced": d.Violations, "dryrun": d.DryRun, "exempted": d.Exempted} {
		for _, v := range vs {
			m.violations.WithLabelValues(v.ID, handling).Inc()
		}
	}
}

// userLabel is the user's own label while fewer than MaxUserSeries users
// have one, else OtherUsers. A real user named "other" shares its series.
func (m *Metrics) userLabel(user string) string {
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	if m.users[user] {
		return user
	}
	if len(m.users) >= MaxUserSeries {
		return OtherUsers
	}
	m.users[user] = true
	return user
}

// Reload records a policy (re)load attempt: from the directory (source
// "local") or from a bundle ("bundle").
func (m *Metrics) Reload(source, revision string, err error) {
	if m == nil {
		return
	}
	m.reloadTime.SetToCurrentTime()
	if err != nil {
		m.reloadOK.Set(0)
		return
	}
	m.reloadOK.Set(1)
	m.revision.Reset()
	m.revision.WithLabelValues(source, revision).Set(1)
	m.policyOK.Store(true)
}

// BundleStatus is what the bundle plugin last reported for one bundle.
type BundleStatus struct {
	Name         string
	LastRequest  time.Time
	LastDownload time.Time
	OK           bool // the last poll activated the bundle or found it unchanged
}

// Bundle records a poll of a bundle.
func (m *Metrics) Bundle(s BundleStatus) {
	if m == nil {
		return
	}
	if !s.LastRequest.IsZero() {
		m.bundleRequest.WithLabelValues(s.Name).Set(unix(s.LastRequest))
	}
	if !s.LastDownload.IsZero() {
		m.bundleDownload.WithLabelValues(s.Name).Set(unix(s.LastDownload))
	}
	ok := 0.0
	if s.OK {
		ok = 1
	}
	m.bundleOK.WithLabelValues(s.Name).Set(ok)
}

// BundlesInForce records the bundles (name: manifest revision) whose policy
// was just put in force.
func (m *Metrics) BundlesInForce(bundles map[string]string) {
	if m == nil {
		return
	}
	m.bundleInfo.Reset()
	now := time.Now()
	for name, rev := range bundles {
		m.bundleInfo.WithLabelValues(name, rev).Set(1)
		m.bundleActivation.WithLabelValues(name).Set(unix(now))
	}
}

// DecisionLogQueueDrop counts a decision the decision-log queue had no room for.
func (m *Metrics) DecisionLogQueueDrop() {
	if m == nil {
		return
	}
	m.logQueueDrops.Inc()
}

// Canary records one enforcement canary: ok when dockerd refused it
// through this plugin.
func (m *Metrics) Canary(ok bool, at time.Time) {
	if m == nil {
		return
	}
	m.canaryOnce.Do(func() {
		m.canaryOK = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dockward_canary_ok", Help: "1 if the last enforcement canary (a privileged create sent through docker_host) was refused by this plugin, 0 if dockerd did not enforce (or the plugin failed, or the daemon did not answer).",
		})
		m.canaryTime = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dockward_canary_last_run_timestamp_seconds", Help: "When the last enforcement canary ran.",
		})
		m.reg.MustRegister(m.canaryOK, m.canaryTime)
	})
	v := 0.0
	if ok {
		v = 1
	}
	m.canaryOK.Set(v)
	m.canaryTime.Set(unix(at))
}

// Register adds a collector (the decision-log plugin's counters) to the
// registry.
func (m *Metrics) Register(c prometheus.Collector) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(c)
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// AuditError counts a lost audit record.
func (m *Metrics) AuditError() {
	if m == nil {
		return
	}
	m.auditErrors.Inc()
}

// Handler serves /metrics and /healthz (200 once a policy is in force).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.policyOK.Load() {
			http.Error(w, "no policy in force", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// ListenAddr puts a bare port (":9464") on loopback: metrics are not for
// the network unless the operator names an address.
func ListenAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid metrics address %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Serve serves the handler on addr until ctx ends.
func (m *Metrics) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
