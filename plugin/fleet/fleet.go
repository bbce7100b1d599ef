// Package fleet gives a fleet of hosts one policy, pulled from a bundle
// server, and reports every decision to a collector. It runs OPA's own
// distribution machinery, configured by a standard OPA configuration file:
// the plugin manager, the bundle plugin (polling, ETags, signed bundles)
// and the decision-log plugin (buffering, upload, OPA's event format).
//
// Besides policy it is the only package that imports OPA, and it never
// evaluates: when the bundle plugin activates a bundle, its modules and data
// are read back out of the plugin manager's store and compiled by
// policy.CompileBundle, the same strict path as the policy directory. A
// bundle that fails it is rejected and the last good policy stays in force.
package fleet

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/logging"
	opametrics "github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/plugins"
	"github.com/open-policy-agent/opa/v1/plugins/bundle"
	"github.com/open-policy-agent/opa/v1/plugins/logs"
	"github.com/open-policy-agent/opa/v1/server"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/metrics"
	"github.com/dockward/dockward/plugin/policy"
)

// Fallbacks: what is in force until the first bundle is.
const (
	FallbackLocal = "local" // the policy directory
	FallbackDeny  = "deny"  // nothing: every request is denied
)

// DecisionPath is the path of every decision-log event: the rule dockward
// evaluates, data.authz.decision.
const DecisionPath = "authz/decision"

// DefaultQueueSize is how many decisions may wait for the decision-log
// plugin before new ones are dropped (and counted).
const DefaultQueueSize = 4096

// Options configure a Fleet.
type Options struct {
	Config  *Config
	Log     *logrus.Logger
	Metrics *metrics.Metrics // nil: none
	// ID is labels.id of every decision-log event (default: the hostname).
	ID        string
	QueueSize int // 0: DefaultQueueSize
	// AllowUnsigned lets bundles without a signing block (or with
	// allow_unsigned_delta_bundles) be polled: the operator's explicit
	// opt-out (bundle_allow_unsigned). Without it New refuses them.
	AllowUnsigned bool
}

// Fleet is the running OPA plugin manager with its bundle and decision-log
// plugins.
type Fleet struct {
	manager *plugins.Manager
	store   storage.Store
	log     *logrus.Logger
	metrics *metrics.Metrics
	sources map[string]string // bundle name -> where it comes from

	engine *policy.Engine
	ctx    context.Context

	mu        sync.Mutex           // the bundle plugin calls one listener at a time; this guards the maps for tests
	activated map[string]time.Time // bundle name -> last activation seen
	rejected  map[string]bool      // bundle name -> its activated revision failed our compile

	logs    *logs.Plugin // nil without decision_logs
	queue   chan Decision
	stop    chan struct{}
	stopped chan struct{}
}

// New builds the plugin manager and its plugins from the checked config;
// nothing runs until Start.
func New(o Options) (*Fleet, error) {
	id := o.ID
	if id == "" {
		id, _ = os.Hostname()
	}
	f := &Fleet{
		store:     inmem.New(),
		log:       o.Log,
		metrics:   o.Metrics,
		sources:   map[string]string{},
		activated: map[string]time.Time{},
		rejected:  map[string]bool{},
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	lg := &opaLogger{e: logrus.NewEntry(o.Log).WithField("component", "opa")}
	m, err := plugins.New(o.Config.raw, id, f.store,
		plugins.Logger(lg), plugins.ConsoleLogger(lg),
		plugins.WithParserOptions(ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}),
		plugins.EnablePrintStatements(false))
	if err != nil {
		return nil, fmt.Errorf("opa config: %w", err)
	}
	f.manager = m
	cfg := m.GetConfig()
	if len(cfg.Bundles) > 0 {
		bc, err := bundle.NewConfigBuilder().WithBytes(cfg.Bundles).WithServices(m.Services()).
			WithKeyConfigs(m.PublicKeys()).Parse()
		if err != nil {
			return nil, fmt.Errorf("opa config bundles: %w", err)
		}
		if unsigned := unsignedBundles(bc); len(unsigned) > 0 && !o.AllowUnsigned {
			return nil, fmt.Errorf("bundles %s accept unsigned policy: whoever can answer for the bundle server decides what every host enforces; "+
				"add a signing block (signing: {keyid: ...} with the key under keys; dockward policy bundle --signing-key) "+
				"or opt out explicitly with bundle_allow_unsigned: true (--bundle-allow-unsigned)", strings.Join(unsigned, ", "))
		}
		for name, src := range bc.Bundles {
			where := src.Resource
			if c := m.Client(src.Service); c.Config() != nil {
				where = strings.TrimSuffix(c.Config().URL, "/") + "/" + strings.TrimPrefix(src.Resource, "/")
			}
			f.sources[name] = where
		}
		bp := bundle.New(bc, m)
		bp.Register("dockward", f.onBundleStatus)
		m.Register(bundle.Name, bp)
	}
	if len(cfg.DecisionLogs) > 0 {
		lc, err := logs.NewConfigBuilder().WithBytes(cfg.DecisionLogs).WithServices(m.Services()).WithLogger(lg).Parse()
		if err != nil {
			return nil, fmt.Errorf("opa config decision_logs: %w", err)
		}
		om := opametrics.New()
		f.logs = logs.New(lc, m).WithMetrics(om)
		m.Register(logs.Name, f.logs)
		size := o.QueueSize
		if size <= 0 {
			size = DefaultQueueSize
		}
		f.queue = make(chan Decision, size)
		if err := o.Metrics.Register(&logStats{plugin: f.logs, m: om}); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// unsignedBundles lists the bundles OPA would activate without a verified
// signature: no signing block (with keys configured, OPA then verifies a
// signature only if one is present), or unsigned delta bundles allowed.
func unsignedBundles(bc *bundle.Config) []string {
	var names []string
	for name, src := range bc.Bundles {
		if !src.Signing.SignatureRequired() || src.Signing.UnsignedDeltaBundlesAllowed() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Sources says where the bundles come from: "authz from http://host/b.tar.gz".
func (f *Fleet) Sources() string {
	var s []string
	for name, where := range f.sources {
		s = append(s, name+" from "+where)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// HasBundles reports whether the config pulls any bundle.
func (f *Fleet) HasBundles() bool { return len(f.sources) > 0 }

// Start starts polling for bundles, putting each activated one in force in
// engine, and the decision-log uploads.
func (f *Fleet) Start(ctx context.Context, engine *policy.Engine) error {
	f.engine, f.ctx = engine, ctx
	if f.logs != nil {
		go f.drain()
	} else {
		close(f.stopped)
	}
	if err := f.manager.Start(ctx); err != nil {
		return fmt.Errorf("start opa plugins: %w", err)
	}
	return nil
}

// Stop stops polling and hands what is queued to the decision-log plugin,
// which uploads what it can until ctx ends.
func (f *Fleet) Stop(ctx context.Context) {
	close(f.stop)
	<-f.stopped
	f.manager.Stop(ctx)
}

// onBundleStatus is the bundle plugin's listener, called after every poll of
// one bundle, once the bundle (if any) is activated in the store.
func (f *Fleet) onBundleStatus(s bundle.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fields := logrus.Fields{"bundle": s.Name, "source": f.sources[s.Name]}
	failed := s.Code != "" || len(s.Errors) > 0
	if !s.LastSuccessfulActivation.IsZero() && !s.LastSuccessfulActivation.Equal(f.activated[s.Name]) && !failed {
		f.activated[s.Name] = s.LastSuccessfulActivation
		f.rejected[s.Name] = f.activate(fields, s.ActiveRevision) != nil
	} else if failed {
		fields["error"] = statusError(s)
		fields["policy_in_force"] = f.engine.Current().Revision
		f.log.WithFields(fields).Error("policy bundle NOT activated: keeping the last good policy in force")
	}
	f.metrics.Bundle(metrics.BundleStatus{
		Name:         s.Name,
		LastRequest:  s.LastRequest,
		LastDownload: s.LastSuccessfulDownload,
		OK:           !failed && !f.rejected[s.Name],
	})
}

// activate compiles what the store now holds and puts it in force.
func (f *Fleet) activate(fields logrus.Fields, revision string) error {
	fields["revision"] = revision
	c, err := f.compileStore()
	if err != nil {
		fields["error"] = err.Error()
		fields["policy_in_force"] = f.engine.Current().Revision
		f.log.WithFields(fields).Error("policy bundle REJECTED: it does not pass dockward's policy checks; keeping the last good policy in force")
		f.metrics.Reload("", "", err)
		return err
	}
	if old := f.engine.Current(); old == nil || old.Revision != c.Revision {
		f.engine.Swap(c)
	}
	f.metrics.Reload(c.Source, c.Revision, nil)
	f.metrics.BundlesInForce(c.Bundles)
	fields["policy_revision"] = c.Revision
	fields["rules"] = len(c.Rules)
	f.log.WithFields(fields).Info("policy bundle in force")
	return nil
}

// compileStore reads every activated bundle's modules and data out of the
// store and compiles them with policy.CompileBundle.
func (f *Fleet) compileStore() (*policy.Compiled, error) {
	ctx := f.ctx
	txn, err := f.store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer f.store.Abort(ctx, txn)
	names, err := opabundle.ReadBundleNamesFromStore(ctx, f.store, txn)
	if err != nil {
		return nil, fmt.Errorf("read bundle names: %w", err)
	}
	revisions := make(map[string]string, len(names))
	for _, name := range names {
		rev, err := opabundle.ReadBundleRevisionFromStore(ctx, f.store, txn, name)
		if err != nil && !storage.IsNotFound(err) {
			return nil, fmt.Errorf("read revision of bundle %s: %w", name, err)
		}
		revisions[name] = rev
	}
	ids, err := f.store.ListPolicies(ctx, txn)
	if err != nil {
		return nil, fmt.Errorf("list bundle policies: %w", err)
	}
	files := make(map[string][]byte, len(ids))
	for _, id := range ids {
		b, err := f.store.GetPolicy(ctx, txn, id)
		if err != nil {
			return nil, fmt.Errorf("read bundle policy %s: %w", id, err)
		}
		files[id] = b
	}
	v, err := f.store.Read(ctx, txn, storage.Path{})
	if err != nil {
		return nil, fmt.Errorf("read bundle data: %w", err)
	}
	data, _ := v.(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	delete(data, "system") // the bundle plugin's own bookkeeping (manifests, ETags)
	sort.Strings(names)
	return policy.CompileBundle(ctx, "bundle "+strings.Join(names, ","), revisions, files, data)
}

func statusError(s bundle.Status) string {
	parts := []string{}
	if s.Message != "" {
		parts = append(parts, s.Message)
	}
	for _, e := range s.Errors {
		parts = append(parts, e.Error())
	}
	if s.HTTPCode != "" {
		parts = append(parts, "HTTP "+string(s.HTTPCode))
	}
	return strings.Join(parts, ": ")
}

// Decision is one decision for the decision log.
type Decision struct {
	ID       string
	Time     time.Time
	Input    any // the input document: redacted (input/redact.go), no headers
	Result   any
	Revision string
	Bundles  map[string]string // bundle name -> manifest revision, when a bundle decided
	Custom   map[string]any
}

// LogDecision queues d for the decision-log plugin. It never blocks: with
// the queue full (the plugin stuck), d is dropped and counted.
func (f *Fleet) LogDecision(d Decision) {
	if f == nil || f.queue == nil {
		return
	}
	select {
	case f.queue <- d:
	default:
		f.metrics.DecisionLogQueueDrop()
	}
}

// drain hands queued decisions to the decision-log plugin, which buffers
// them (bounded: see boundBuffer) and uploads them in the background.
func (f *Fleet) drain() {
	defer close(f.stopped)
	for {
		select {
		case d := <-f.queue:
			f.push(d)
		case <-f.stop:
			for {
				select {
				case d := <-f.queue:
					f.push(d)
				default:
					return
				}
			}
		}
	}
}

func (f *Fleet) push(d Decision) {
	in, res := d.Input, d.Result
	info := &server.Info{
		DecisionID: d.ID,
		Timestamp:  d.Time.UTC(),
		Path:       DecisionPath,
		Input:      &in,
		Results:    &res,
		Revision:   d.Revision,
		Custom:     d.Custom,
	}
	if len(d.Bundles) > 0 {
		info.Bundles = make(map[string]server.BundleInfo, len(d.Bundles))
		for name, rev := range d.Bundles {
			info.Bundles[name] = server.BundleInfo{Revision: rev}
		}
	}
	// Not f.ctx itself: the decisions still queued at shutdown are logged.
	if err := f.logs.Log(context.WithoutCancel(f.ctx), info); err != nil {
		f.log.WithFields(logrus.Fields{"decision_id": d.ID, "error": err.Error()}).Warn("decision not handed to the decision log (the local audit log has it)")
	}
}

// opaLogger routes OPA's plugin logs into dockward's operational log. OPA's
// info lines ("Logs uploaded successfully.", every few seconds) become
// debug: dockward logs what an operator needs at info itself (a bundle put
// in force, rejected, not activated).
type opaLogger struct{ e *logrus.Entry }

func (l *opaLogger) Debug(f string, a ...any) { l.e.Debugf(f, a...) }
func (l *opaLogger) Info(f string, a ...any)  { l.e.Debugf(f, a...) }
func (l *opaLogger) Error(f string, a ...any) { l.e.Errorf(f, a...) }
func (l *opaLogger) Warn(f string, a ...any)  { l.e.Warnf(f, a...) }

func (l *opaLogger) WithFields(fields map[string]any) logging.Logger {
	return &opaLogger{e: l.e.WithFields(fields)}
}

func (l *opaLogger) GetLevel() logging.Level {
	switch l.e.Logger.GetLevel() {
	case logrus.DebugLevel, logrus.TraceLevel:
		return logging.Debug
	case logrus.InfoLevel, logrus.WarnLevel: // OPA's info lines are dockward's debug
		return logging.Warn
	default:
		return logging.Error
	}
}

// SetLevel is a no-op: dockward's --log-level decides.
func (l *opaLogger) SetLevel(logging.Level) {}
