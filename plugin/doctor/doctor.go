// Package doctor checks a live dockward installation end to end and says
// what to fix: the plugin answers and judges, dockerd is configured with it
// and really enforces (the canary), the engine has no known authorization
// bypass, and with identity on, the broker's sockets, listener and
// certificates are as the threat model needs and a non-root caller is seen
// under their own name.
//
// Each check is one row of the checks table: it reads what it needs from
// the env (some facts are shared: the daemon's info, whether the plugin
// answered) and returns a status, what it found, and what to do.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dockward/dockward/plugin/canary"
	"github.com/dockward/dockward/plugin/config"
)

// Status of one check.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn" // works, but something needs attention; does not fail the run
	Fail Status = "fail"
	Skip Status = "skip" // does not apply, or a check it depends on failed
)

// Result is one check's verdict.
type Result struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	Detail string `json:"detail"`        // what was found
	Fix    string `json:"fix,omitempty"` // what to do (every fail and warn has one)
}

// Report is a whole run.
type Report struct {
	OK         bool     `json:"ok"` // no check failed
	Plugin     string   `json:"plugin"`
	Socket     string   `json:"socket"`
	DockerHost string   `json:"docker_host"`
	Identity   bool     `json:"identity"`
	Checks     []Result `json:"checks"`
}

// Counts returns how many checks ended in each status.
func (r Report) Counts() map[Status]int {
	n := map[Status]int{}
	for _, c := range r.Checks {
		n[c.Status]++
	}
	return n
}

// Options say where the installation is.
type Options struct {
	PluginName   string // the name dockerd knows the plugin by
	PluginSocket string
	DockerHost   string // the daemon dockward guards (docker_host)
	AuditLog     string
	// Identity is the broker's layout (defaults filled in); nil: off.
	Identity *config.Identity
	// AsUser is the non-root caller the identity check impersonates; ""
	// picks $SUDO_USER, else the first non-root member of the docker group.
	AsUser string
	// MinCertValidity: a certificate that expires sooner fails.
	MinCertValidity time.Duration
	Timeout         time.Duration // per network call
	DaemonJSON      string        // dockerd's daemon.json (hosts)

	// For tests: where /proc and /etc/group are, the binary run as the
	// caller (default /proc/self/exe), and the clock.
	ProcRoot  string
	GroupFile string
	Exe       string
	ExeArgs   []string // arguments before the probe's own (default "doctor", "probe")
	Now       func() time.Time
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MinCertValidity <= 0 {
		o.MinCertValidity = 7 * 24 * time.Hour
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.GroupFile == "" {
		o.GroupFile = "/etc/group"
	}
	if o.DaemonJSON == "" {
		o.DaemonJSON = "/etc/docker/daemon.json"
	}
	if o.Exe == "" {
		o.Exe = "/proc/self/exe"
	}
	if o.ExeArgs == nil {
		o.ExeArgs = []string{"doctor", "probe"}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// env is what the checks share during one run.
type env struct {
	opts    Options
	docker  *canary.Client
	dockErr error

	pluginUp   bool // the plugin answered Activate
	configured bool // dockerd lists the plugin
	daemonDown bool // dockerd did not answer at all
}

type check struct {
	id, title string
	identity  bool // runs only with identity on
	run       func(ctx context.Context, e *env) Result
}

// checks is the table, in the order they run and are reported.
var checks = []check{
	{id: "plugin.answers", title: "plugin answers", run: checkPluginAnswers},
	{id: "plugin.verdicts", title: "plugin judges", run: checkPluginVerdicts},
	{id: "daemon.engine", title: "engine version", run: checkEngine},
	{id: "daemon.configured", title: "dockerd configured", run: checkConfigured},
	{id: "daemon.enforcing", title: "dockerd enforces", run: checkEnforcing},
	{id: "identity.raw_socket", title: "raw socket root-only", identity: true, run: checkRawSocket},
	{id: "identity.upstream", title: "TLS listener loopback-only", identity: true, run: checkUpstream},
	{id: "identity.pki", title: "identity certificates", identity: true, run: checkPKI},
	{id: "identity.caller", title: "caller seen by name", identity: true, run: checkCaller},
}

// Run runs every check that applies.
func Run(ctx context.Context, o Options) Report {
	o.defaults()
	e := &env{opts: o}
	e.docker, e.dockErr = canary.NewClient(o.DockerHost, o.Timeout)
	rep := Report{Plugin: o.PluginName, Socket: o.PluginSocket, DockerHost: o.DockerHost, Identity: o.Identity != nil}
	for _, c := range checks {
		if c.identity && o.Identity == nil {
			continue
		}
		r := safeRun(ctx, e, c)
		r.ID, r.Title = c.id, c.title
		rep.Checks = append(rep.Checks, r)
	}
	if o.Identity == nil {
		rep.Checks = append(rep.Checks, Result{ID: "identity", Title: "identity broker", Status: Skip,
			Detail: "identity is off (the config has no identity: section): every caller on the unix socket is anonymous to dockward",
			Fix:    "to give callers their own name, turn the broker on (README, Identity)"})
	}
	rep.OK = rep.Counts()[Fail] == 0
	return rep
}

// safeRun turns a panic in a check into its failure: doctor reports, it
// never dies half-way.
func safeRun(ctx context.Context, e *env, c check) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{Status: Fail, Detail: fmt.Sprintf("the check crashed: %v", p), Fix: "report this as a dockward bug"}
		}
	}()
	return c.run(ctx, e)
}

func fail(detail, fix string) Result { return Result{Status: Fail, Detail: detail, Fix: fix} }
func warn(detail, fix string) Result { return Result{Status: Warn, Detail: detail, Fix: fix} }
func ok(detail string) Result        { return Result{Status: OK, Detail: detail} }
func skip(detail string) Result      { return Result{Status: Skip, Detail: detail} }

// permissionHint is the fix for an error that root would not get.
func permissionHint(err error) string {
	if errors.Is(err, fs.ErrPermission) {
		return "run dockward doctor as root (sudo dockward doctor): the plugin socket and dockerd's socket are root-only"
	}
	return ""
}

// ResolveSocket returns the plugin socket to check: path when something is
// there, else the one managed plugin's socket of that name (dockerd puts a
// managed plugin's socket in /run/docker/plugins/<plugin id>/dockward.sock),
// else path (and plugin.answers says nothing is there).
func ResolveSocket(path string) string {
	if _, err := os.Lstat(path); err == nil {
		return path
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*", filepath.Base(path)))
	if len(matches) == 1 {
		return matches[0]
	}
	return path
}
