// Package metrics exposes dockward's Prometheus metrics and a health
// endpoint on an optional listener: decisions by result and rule, decision
// latency, the policy in force and the last reload, audit write errors.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
			Name: "dockward_policy_info", Help: "The policy in force: 1 for its revision (sha256 of the policy files).",
		}, []string{"revision"}),
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
	m.reg.MustRegister(m.decisions, m.violations, m.latency, m.revision, m.reloadOK, m.reloadTime, m.auditErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Decision records one decision.
func (m *Metrics) Decision(endpoint string, d decision.Decision, took time.Duration) {
	if m == nil {
		return
	}
	if endpoint == "" {
		endpoint = "unknown"
	}
	m.decisions.WithLabelValues(d.Outcome(), endpoint).Inc()
	m.latency.Observe(took.Seconds())
	for handling, vs := range map[string][]decision.Violation{"enforced": d.Violations, "dryrun": d.DryRun, "exempted": d.Exempted} {
		for _, v := range vs {
			m.violations.WithLabelValues(v.ID, handling).Inc()
		}
	}
}

// Reload records a policy (re)load attempt.
func (m *Metrics) Reload(revision string, err error) {
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
	m.revision.WithLabelValues(revision).Set(1)
	m.policyOK.Store(true)
}

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
