package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/audit"
	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/internal/testutil"
	"github.com/dockward/dockward/plugin/metrics"
	"github.com/dockward/dockward/plugin/policy"
)

// TestSecretsReachNoSink: every request of the secrets corpus (one field
// each) goes through the plugin as dockerd would send it, with the plugin
// at debug level, audit of allows on and a decision log uploading to a
// collector on loopback. The canary is in none of what leaves the plugin:
// the input the policy saw, the debug log, the collector's events, the
// audit records.
func TestSecretsReachNoSink(t *testing.T) {
	t.Parallel()
	compiled, err := policy.Load(t.Context(), "../../policies")
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(compiled)
	col := newCollector(t)
	var debug, auditLog testutil.SyncBuffer
	log := logrus.New()
	log.SetOutput(&debug)
	log.SetLevel(logrus.DebugLevel)
	c, err := ParseConfig([]byte(fmt.Sprintf(`{"services":{"c":{"url":%q}},"decision_logs":{"service":"c","reporting":{"trigger":"manual","buffer_type":"event"}}}`, col.URL)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Options{Config: c, Log: log, Metrics: metrics.New(), ID: "host-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context(), engine); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop(t.Context()) })

	var mu sync.Mutex
	inputs := map[string][]byte{} // decision id -> the input, as JSON
	builder := input.Builder{Lookup: input.StaticLookup{
		Images:     map[string]input.ImageInfo{"busybox": {ID: "sha256:bb", User: "1000"}},
		Volumes:    testutil.SecretVolumes,
		Containers: testutil.SecretContainers,
	}}
	p := authz.New(t.Context(), engine, builder, audit.New(&auditLog, io.NopCloser(nil), "test"), log, authz.Options{
		AuditAllows: true,
		// As dockward serve wires it (cli.decisionLog): the input as the
		// policy saw it, the result, and the record's path.
		OnDecision: func(r authz.Result, in *input.Input) {
			d := Decision{ID: r.ID, Time: time.Now(), Result: r.Decision, Revision: r.Event.PolicyRevision,
				Custom: map[string]any{"endpoint": r.Event.Endpoint, "method": r.Event.Method, "path": r.Event.Path, "reason": r.Decision.Reason}}
			if in != nil {
				d.Input = in
				b, _ := json.Marshal(in)
				mu.Lock()
				inputs[r.ID] = b
				mu.Unlock()
			}
			f.LogDecision(d)
		},
	})

	cases := testutil.SecretCases(t)
	ids := make([]string, len(cases))
	for i, tc := range cases {
		ids[i] = p.Decide(tc.Request()).ID
	}
	waitDrained(t, f, int64(len(cases)))
	if err := f.logs.Trigger(t.Context()); err != nil {
		t.Fatalf("upload: %v", err)
	}
	_, uploaded := col.snapshot()
	debugLog, audited := debug.String(), auditLog.String()
	for i, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			id := ids[i]
			mu.Lock()
			in, seen := inputs[id]
			mu.Unlock()
			if seen != (tc.Error == "") {
				t.Errorf("input seen = %v, want %v (error %q)", seen, tc.Error == "", tc.Error)
			}
			for sink, text := range map[string]string{"input": string(in), "debug log": debugLog, "decision log": uploaded, "audit log": audited} {
				if strings.Contains(text, tc.Canary) {
					t.Errorf("the %s carries %q", sink, tc.Canary)
				}
			}
			// The sinks did get this decision: the test would pass
			// vacuously otherwise.
			for sink, text := range map[string]string{"decision log": uploaded, "audit log": audited} {
				if !strings.Contains(text, id) {
					t.Errorf("the %s has no record of decision %s", sink, id)
				}
			}
			if seen && !strings.Contains(debugLog, id) {
				t.Errorf("the debug log has no input for decision %s", id)
			}
		})
	}
}
