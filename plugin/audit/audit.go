// Package audit writes one JSON line per decision to the audit log, for an
// operator to review: who tried what, which rules failed, how to fix it.
//
// The schema is versioned and its keys are constants (the audit log is an
// interface, like the input document). A record never holds a secret: it
// carries no body, no query and no header, and its messages are made from
// the redacted input (input/redact.go).
package audit

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/dockward/dockward/plugin/decision"
)

// Schema is the audit record schema version.
const Schema = "1"

// Keys of an audit record.
const (
	KeySchema         = "schema"
	KeyDecisionID     = "decision_id"
	KeyDecision       = "decision"
	KeyUser           = "user"
	KeyAuthnMethod    = "authn_method"
	KeyGroups         = "groups" // the user's host groups; absent when none
	KeyLevel          = "level"  // the level that judged; absent without a policy verdict
	KeyMethod         = "method"
	KeyPath           = "path"
	KeyEndpoint       = "endpoint"
	KeyContainerName  = "container_name"
	KeyImage          = "image"
	KeyComposeProject = "compose_project" // a container Compose created; absent otherwise
	KeyComposeService = "compose_service"
	KeyComposeObject  = "compose_object" // a volume or network Compose created: "volume data"
	KeyViolations     = "violations"
	KeyDryRun         = "dryrun"
	KeyExempted       = "exempted"
	KeyReason         = "reason"
	KeyPolicyRevision = "policy_revision"
	KeyPluginVersion  = "plugin_version"
	KeyLatencyMS      = "latency_ms"
)

// Event is one decision as the operator sees it.
type Event struct {
	DecisionID  string
	Decision    decision.Decision
	User        string
	AuthnMethod string
	// Groups are the user's groups as the input had them (host groups of a
	// TLS user), and Level the level that judged the request.
	Groups         []string `json:"groups,omitempty"`
	Level          string   `json:"level,omitempty"`
	Method         string
	Path           string
	Endpoint       string
	ContainerName  string
	Image          string
	PolicyRevision string
	Latency        time.Duration
}

// Item is a violation as recorded: id and message, plus the exemption reason
// for waived ones.
type Item struct {
	ID        string `json:"id"`
	Msg       string `json:"msg"`
	Exemption string `json:"exemption,omitempty"`
}

// Options configure the audit log file.
type Options struct {
	Path       string
	MaxSizeMB  int // rotate when the file reaches this size
	MaxBackups int // rotated files kept
	Version    string
}

// Logger writes audit records. It owns its own logrus instance: the audit log
// and the operational log are two streams with two sinks.
type Logger struct {
	log     *logrus.Logger // formats records; Out is written under mu
	mu      sync.Mutex
	out     io.Writer
	closer  io.Closer
	version string
}

// Open opens (creating with mode 0600) the audit log at opts.Path, with
// size-based rotation.
func Open(opts Options) (*Logger, error) {
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o700); err != nil {
		return nil, fmt.Errorf("create audit log directory: %w", err)
	}
	// lumberjack keeps an existing file's mode; create it 0600 first so a
	// new log is never world-readable, and tighten an existing one.
	f, err := os.OpenFile(opts.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	_ = f.Close()
	if err := os.Chmod(opts.Path, 0o600); err != nil {
		return nil, fmt.Errorf("chmod audit log: %w", err)
	}
	lj := &lumberjack.Logger{Filename: opts.Path, MaxSize: opts.MaxSizeMB, MaxBackups: opts.MaxBackups}
	return New(lj, lj, opts.Version), nil
}

// New writes audit records to w (tests pass a buffer).
func New(w io.Writer, c io.Closer, version string) *Logger {
	l := logrus.New()
	l.SetOutput(w)
	l.SetLevel(logrus.InfoLevel)
	l.SetFormatter(&logrus.JSONFormatter{
		TimestampFormat: time.RFC3339Nano,
		// logrus's own level (always info here) is log_level: "level"
		// is the level that judged the request (KeyLevel).
		FieldMap: logrus.FieldMap{logrus.FieldKeyMsg: "event", logrus.FieldKeyLevel: "log_level"},
	})
	return &Logger{log: l, out: w, closer: c, version: version}
}

// Record writes one record synchronously: it is on disk (in the page cache)
// before the plugin answers dockerd, so a crash after the answer loses nothing.
func (l *Logger) Record(ev Event) error {
	d := ev.Decision
	fields := logrus.Fields{
		KeySchema:         Schema,
		KeyDecisionID:     ev.DecisionID,
		KeyDecision:       d.Outcome(),
		KeyUser:           ev.User,
		KeyAuthnMethod:    ev.AuthnMethod,
		KeyMethod:         ev.Method,
		KeyPath:           ev.Path,
		KeyEndpoint:       ev.Endpoint,
		KeyContainerName:  ev.ContainerName,
		KeyImage:          ev.Image,
		KeyViolations:     toItems(d.Violations),
		KeyPolicyRevision: ev.PolicyRevision,
		KeyPluginVersion:  l.version,
		KeyLatencyMS:      float64(ev.Latency.Microseconds()) / 1000,
	}
	if len(d.DryRun) > 0 {
		fields[KeyDryRun] = toItems(d.DryRun)
	}
	if len(d.Exempted) > 0 {
		fields[KeyExempted] = toItems(d.Exempted)
	}
	if d.Reason != "" {
		fields[KeyReason] = d.Reason
	}
	if len(ev.Groups) > 0 {
		fields[KeyGroups] = ev.Groups
	}
	if ev.Level != "" {
		fields[KeyLevel] = ev.Level
	}
	if d.ComposeProject != "" {
		fields[KeyComposeProject] = d.ComposeProject
		if d.ComposeService != "" {
			fields[KeyComposeService] = d.ComposeService
		} else if d.ComposeObject != "" {
			fields[KeyComposeObject] = d.ComposeObject
		}
	}
	// logrus reports write errors on stderr only; write the entry ourselves
	// so a full disk is an error the caller can count and log.
	entry := l.log.WithFields(fields)
	entry.Time = time.Now()
	entry.Level = logrus.InfoLevel
	entry.Message = "decision"
	b, err := l.log.Formatter.Format(entry)
	if err != nil {
		return fmt.Errorf("format audit record: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.out.Write(b); err != nil {
		return fmt.Errorf("write audit record: %w", err)
	}
	return nil
}

// Close closes the file.
func (l *Logger) Close() error {
	if l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

func toItems(vs []decision.Violation) []Item {
	out := make([]Item, 0, len(vs))
	for _, v := range vs {
		out = append(out, Item{ID: v.ID, Msg: v.Msg, Exemption: v.Exemption})
	}
	return out
}
