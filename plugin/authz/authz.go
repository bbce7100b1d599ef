// Package authz is the Docker authorization plugin: for each request it
// builds the input, evaluates the policy, writes the audit record and answers
// dockerd. Every failure on that path is a deny.
package authz

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/audit"
	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/metrics"
	"github.com/dockward/dockward/plugin/policy"
	"github.com/dockward/dockward/plugin/route"
)

// Options configure the plugin.
type Options struct {
	EvalTimeout time.Duration    // per-decision budget; a timeout denies
	AuditAllows bool             // also audit plain allows (denials always are)
	Metrics     *metrics.Metrics // nil: no metrics
	// ReadCacheTTL keeps the decisions on reads (GET and HEAD without a
	// body) for this long, keyed by policy revision and everything the
	// input is built from. 0 means the default (1s); negative disables.
	ReadCacheTTL time.Duration
	// DecisionCacheTTL keeps the decisions on every other request (writes,
	// reads that depend on ownership) for this long, keyed by policy
	// revision and the whole input: every fact the decision can read is
	// in it, so the same key is the same decision. 0 means the default
	// (1s); negative disables.
	DecisionCacheTTL time.Duration
	// OnDecision, if set, is told every decision after it is audited, with
	// the input it was made on (nil when the request never became one). It
	// runs on the request path: it must not block (the decision log queues).
	OnDecision func(r Result, in *input.Input)
	// Facts, if set, is told of every write that has run (AuthZRes, by
	// endpoint): the lookup cache drops what it may have changed
	// (lookupcache.Cache). Not at AuthZReq: an answer fetched before the
	// write runs is as stale as one kept from before; only a drop after
	// the change helps, and the cache's own generation count refuses to
	// keep an answer whose fetch straddled it. A write that fails (no
	// AuthZRes) changes nothing, or its change shows in the daemon's
	// events.
	Facts interface {
		Written(endpoint string, body bool)
	}
}

// Plugin implements authorization.Plugin.
type Plugin struct {
	base    context.Context // the serve context; go-plugins-helpers passes none
	engine  *policy.Engine
	builder input.Builder
	audit   *audit.Logger
	log     *logrus.Logger
	opts    Options
	reads   *expirable.LRU[string, decision.Decision] // nil: no cache
	decided *expirable.LRU[string, decision.Decision] // by input; nil: no cache
	// pending are the facts AuthZReq learned for the AuthZRes of the same
	// request (ownership.go).
	pending *expirable.LRU[string, pendingFact]
}

// New returns a plugin that evaluates the engine's current policy.
func New(ctx context.Context, engine *policy.Engine, builder input.Builder, auditLog *audit.Logger, log *logrus.Logger, opts Options) *Plugin {
	if opts.EvalTimeout <= 0 {
		opts.EvalTimeout = 5 * time.Second // config.Default().EvalTimeout
	}
	if opts.ReadCacheTTL == 0 {
		opts.ReadCacheTTL = time.Second
	}
	p := &Plugin{base: ctx, engine: engine, builder: builder, audit: auditLog, log: log, opts: opts,
		pending: expirable.NewLRU[string, pendingFact](4096, nil, pendingTTL)}
	if opts.ReadCacheTTL > 0 {
		p.reads = expirable.NewLRU[string, decision.Decision](4096, nil, opts.ReadCacheTTL)
	}
	if opts.DecisionCacheTTL == 0 {
		opts.DecisionCacheTTL = time.Second
		p.opts.DecisionCacheTTL = opts.DecisionCacheTTL
	}
	if opts.DecisionCacheTTL > 0 {
		p.decided = expirable.NewLRU[string, decision.Decision](4096, nil, opts.DecisionCacheTTL)
	}
	return p
}

var _ authorization.Plugin = (*Plugin)(nil)

// AuthZReq decides whether dockerd may run a request.
func (p *Plugin) AuthZReq(req authorization.Request) authorization.Response {
	r := p.Decide(req)
	if r.Decision.Allow {
		ctx, cancel := context.WithTimeout(p.base, p.opts.EvalTimeout)
		p.note(ctx, req, routeInfo{endpoint: r.Event.Endpoint, id: r.routeID}, r.input)
		cancel()
	}
	return response(r.Decision, r.ID, r.Internal)
}

// Result is one decision with what the audit record says about it.
type Result struct {
	ID       string
	Decision decision.Decision
	Internal bool // the plugin failed, as opposed to the request being refused
	Event    audit.Event

	input   *input.Input // what it was decided on (nil when it never became one)
	routeID string
}

// Decide runs the whole decision path for one request (normalize, evaluate,
// audit) — the path `dockward check` shares with the plugin, so that check
// says exactly what the daemon would be told.
func (p *Plugin) Decide(req authorization.Request) (res Result) {
	start := time.Now()
	id := uuid.NewString()
	ev := audit.Event{
		DecisionID:  id,
		User:        req.User,
		AuthnMethod: req.UserAuthNMethod,
		Method:      req.RequestMethod,
		// Until the request is routed: the raw URI without its query,
		// which can carry secrets (buildargs, a remote's credentials).
		Path: route.WithoutQuery(req.RequestURI),
	}
	var d decision.Decision
	var internal bool // the plugin failed, as opposed to the request being refused
	var in *input.Input

	defer func() {
		// A panic anywhere below is a deny, never a crash of the plugin
		// (which would lock every Docker call) and never an allow.
		if r := recover(); r != nil {
			p.log.WithFields(logrus.Fields{"decision_id": id, "panic": fmt.Sprint(r)}).
				Errorf("panic while deciding; request denied\n%s", debug.Stack())
			d = decision.Deny(fmt.Sprintf("internal error in dockward (panic: %v)", r))
			internal = true
		}
		if in != nil {
			// Whose level judged: the deny message and the audit
			// record name the user and their groups with the level.
			d.User, d.Groups = in.User.Name, in.User.Groups
			ev.Groups = in.User.Groups
			if c := in.ComposeObject(); c != nil {
				d.ComposeProject, d.ComposeService, d.ComposeObject = c.Project, c.Service, c.What()
			}
		}
		ev.Level = d.Level
		ev.Decision = d
		ev.Latency = time.Since(start)
		if c := p.engine.Current(); c != nil {
			ev.PolicyRevision = c.Revision
		}
		p.record(ev)
		p.opts.Metrics.Decision(ev.Endpoint, d, ev.Latency)
		res = Result{ID: id, Decision: d, Internal: internal, Event: ev, input: in}
		if in != nil {
			res.routeID = in.Route.ID
		}
		if p.opts.OnDecision != nil {
			p.opts.OnDecision(res, in)
		}
	}()

	// Route once, first: the audit record names the route even when the
	// body cannot be decoded (the operator needs to see what was refused).
	// One budget covers the whole decision: daemon lookups and evaluation.
	ctx, cancel := context.WithTimeout(p.base, p.opts.EvalTimeout)
	defer cancel()
	rt, err := input.Route(req)
	if err == nil {
		ev.Path, ev.Endpoint = rt.Path, rt.Endpoint
		in, err = p.builder.BuildRouted(ctx, rt, req)
	}
	if err != nil {
		var ie *input.Error
		if !errors.As(err, &ie) {
			internal = true
		}
		d = decision.Deny(err.Error())
		return
	}
	if in.Container != nil {
		ev.ContainerName, ev.Image = in.Container.Name, in.Container.Image
	}
	if p.log.IsLevelEnabled(logrus.DebugLevel) {
		// Safe to log: the input is redacted (input/redact.go) and holds
		// no headers.
		b, _ := json.Marshal(in)
		p.log.WithFields(logrus.Fields{"decision_id": id, "input": string(b)}).Debug("input")
	}

	c := p.engine.Current()
	if c == nil {
		d, internal = decision.Deny("no policy is loaded"), true
		return
	}
	// Reads are most of the API traffic (docker ps waits for the plugin as
	// much as docker run) and their input is a pure function of the key, so
	// their decision is kept briefly. A new policy revision is a new key.
	key, cacheable := readKey(c.Revision, req)
	// A read whose decision depends on who owns the object (logs,
	// archive) is decided afresh: `dockward own` takes effect at once.
	cacheable = cacheable && !(req.User != "" && input.NeedsOwner(in.Route.Endpoint))
	if cacheable && p.reads != nil {
		if cached, ok := p.reads.Get(key); ok {
			d = cached
			return
		}
	}
	// Any other request is decided once per input: the same container
	// create sent again (a CI job, a compose up), the same stop or exec on
	// the same container. The key is the whole input, facts looked up
	// included; an input with unestablished facts is never kept.
	var inKey string
	if !cacheable && p.decided != nil && len(in.Unknown) == 0 {
		if inKey, err = inputKey(c.Revision, in); err == nil {
			if cached, ok := p.decided.Get(inKey); ok {
				d = cached
				return
			}
		}
	}
	d, err = c.Eval(ctx, in)
	if err == nil && cacheable && p.reads != nil {
		p.reads.Add(key, d)
	}
	if err == nil && inKey != "" {
		p.decided.Add(inKey, d)
	}
	if err != nil {
		p.log.WithFields(logrus.Fields{"decision_id": id, "error": err.Error()}).Error("policy evaluation failed; request denied")
		d, internal = decision.Deny("policy evaluation failed: "+err.Error()), true
		return
	}
	if len(in.Unknown) > 0 {
		// A failed lookup is the plugin's failure, not the request's: it
		// is answered as Err, with every violation the other rules found
		// (request_lookup_failed names the facts). Rego decides, but an
		// edited policy without that guard still never turns an
		// unestablished fact into an allow.
		internal = true
		if d.Allow {
			facts := make([]string, len(in.Unknown))
			for i, u := range in.Unknown {
				facts[i] = u.Fact + " (" + u.Reason + ")"
			}
			d = decision.Deny("facts the decision needs could not be looked up on the daemon: " + strings.Join(facts, "; "))
		}
		p.log.WithFields(logrus.Fields{"decision_id": id, "unknown": len(in.Unknown)}).Warn("daemon lookup failed; request denied")
	}
	return
}

// written tells the lookup cache of a write that has run: it may change
// what the daemon answers from now on. Reads change nothing.
func (p *Plugin) written(req authorization.Request) {
	if p.opts.Facts == nil || req.RequestMethod == "GET" || req.RequestMethod == "HEAD" {
		return
	}
	endpoint := "" // unroutable: the cache drops everything
	if rt, err := input.Route(req); err == nil {
		endpoint = rt.Endpoint
	}
	p.opts.Facts.Written(endpoint, len(req.RequestBody) > 0)
}

// inputKey is the decision cache key of an input: the policy revision and
// a SHA-256 of the input as the policy sees it (the JSON the conversion to
// an OPA value follows). A hash, so the cache holds no request content.
func inputKey(revision string, in *input.Input) (string, error) {
	h := sha256.New()
	if lb, ok := in.Body.(*input.LazyBody); ok {
		// The body is a function of the request body: hash that, and
		// leave the body uncomputed (most decisions never need it).
		cp := *in
		cp.Body = nil
		b, err := json.Marshal(&cp)
		if err != nil {
			return "", err
		}
		h.Write(b)
		h.Write([]byte{0})
		h.Write(lb.Raw())
	} else {
		b, err := json.Marshal(in)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return revision + "\x00" + string(h.Sum(nil)), nil
}

// readKey is the cache key of a read: everything its input is built from.
func readKey(revision string, req authorization.Request) (string, bool) {
	if (req.RequestMethod != "GET" && req.RequestMethod != "HEAD") || len(req.RequestBody) > 0 {
		return "", false
	}
	return strings.Join([]string{revision, req.RequestMethod, req.RequestURI, req.User, req.UserAuthNMethod}, "\x00"), true
}

func (p *Plugin) record(ev audit.Event) {
	d := ev.Decision
	if p.audit == nil {
		return // dockward check: nothing happened, nothing to audit
	}
	if d.Allow && len(d.DryRun) == 0 && len(d.Exempted) == 0 && !p.opts.AuditAllows {
		return
	}
	if err := p.audit.Record(ev); err != nil {
		p.opts.Metrics.AuditError()
		p.log.WithFields(logrus.Fields{"decision_id": ev.DecisionID, "error": err.Error()}).Error("AUDIT RECORD LOST")
	}
}

// response maps a decision to the protocol. A denied request is reported in
// Msg ("authorization denied by plugin dockward: ..."); a failure of the
// plugin itself in Err ("plugin dockward failed with error: ..."). Neither
// ever sets Allow.
func response(d decision.Decision, id string, internal bool) authorization.Response {
	if d.Allow {
		return authorization.Response{Allow: true}
	}
	msg := d.Message(id)
	if internal {
		return authorization.Response{Err: msg}
	}
	return authorization.Response{Msg: msg}
}

// Serve answers the authz protocol on l until ctx ends.
func Serve(ctx context.Context, l net.Listener, p *Plugin) error {
	h := authorization.NewHandler(p)
	errc := make(chan error, 1)
	go func() { errc <- h.Serve(l) }()
	select {
	case <-ctx.Done():
		_ = l.Close()
		return nil
	case err := <-errc:
		return err
	}
}
