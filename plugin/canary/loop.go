package canary

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"
)

// Loop sends the canary every Interval and reports each result. It is what
// `dockward serve` runs: the canary passes through dockerd, which asks this
// same process (the plugin) about it; the plugin answers on its own server
// goroutine, so the loop only ever waits on the daemon, never on itself.
type Loop struct {
	Client   *Client
	Interval time.Duration
	Plugin   string // the name dockerd knows the plugin by
	Log      *logrus.Logger
	// Report is told every result: ok when the daemon refused the canary
	// through this plugin.
	Report func(ok bool, at time.Time, r Result)
	// First is the delay before the first canary and the retry delay while
	// the daemon does not answer (dockerd usually starts after the plugin).
	// 0 means min(Interval, 10s).
	First time.Duration
}

// Run sends canaries until ctx ends.
func (l Loop) Run(ctx context.Context) {
	if l.Interval <= 0 {
		return
	}
	retry := l.First
	if retry <= 0 {
		retry = min(l.Interval, 10*time.Second)
	}
	wait := retry
	lastOK := -1 // unknown
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		r := Send(cctx, l.Client)
		cancel()
		if ctx.Err() != nil {
			return
		}
		ok := r.Outcome == Enforced && r.ByPlugin(l.Plugin)
		if l.Report != nil {
			l.Report(ok, time.Now(), r)
		}
		l.log(r, ok, lastOK)
		if ok {
			lastOK = 1
		} else {
			lastOK = 0
		}
		wait = l.Interval
		if r.Outcome == Unreachable {
			wait = retry
		}
	}
}

func (l Loop) log(r Result, ok bool, lastOK int) {
	if l.Log == nil {
		return
	}
	f := l.Log.WithFields(logrus.Fields{"canary": r.Name, "outcome": string(r.Outcome), "status": r.Status})
	if r.DecisionID != "" {
		f = f.WithField("decision_id", r.DecisionID)
	}
	summary := r.Summary(l.Plugin)
	switch {
	case ok && lastOK != 1:
		f.Info("enforcement canary: " + summary)
	case ok:
		f.Debug("enforcement canary: " + summary)
	case r.Outcome == Unreachable:
		f.Warn("enforcement canary: " + summary)
	case r.Outcome == NotEnforcing || r.Outcome == Created:
		f.Error("ENFORCEMENT OFF: " + summary + "; dockerd must run with --authorization-plugin=" + l.Plugin +
			" (or \"authorization-plugins\" in daemon.json: dockward daemon-config enable) — run dockward doctor")
	case r.Outcome == Enforced:
		f.Error("ENFORCEMENT NOT PROVEN: " + summary + "; dockerd's authorization plugin is not this dockward (" + l.Plugin + ") — run dockward doctor")
	default:
		f.Error("enforcement canary failed: " + summary + " — run dockward doctor")
	}
}
