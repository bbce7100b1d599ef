package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/audit"
	"github.com/dockward/dockward/plugin/decision"
)

func auditFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(f, nil, "t")
	for _, ev := range []audit.Event{
		{DecisionID: "d1", User: "alice", Image: "busybox", Endpoint: "container.create",
			Decision: decision.Decision{Violations: []decision.Violation{{ID: "read_only_rootfs", Msg: "writable"}}}},
		{DecisionID: "d2", User: "bob", Image: "nginx", Endpoint: "container.create",
			Decision: decision.Decision{Allow: true, DryRun: []decision.Violation{{ID: "pids_limit", Msg: "none"}}}},
		{DecisionID: "d3", User: "carol", Image: "busybox", Endpoint: "container.create",
			Decision: decision.Decision{ComposeProject: "shop", ComposeService: "web", Violations: []decision.Violation{{ID: "cpu_limit", Msg: "none"}}}},
		{DecisionID: "d4", Endpoint: "volume.create",
			Decision: decision.Decision{ComposeProject: "shop", ComposeObject: "volume data", Violations: []decision.Violation{{ID: "volume_host_path", Msg: "binds /etc"}}}},
	} {
		if err := l.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	f.WriteString("{truncated\n")
	f.Close()
	return path
}

func TestAuditCommand(t *testing.T) {
	t.Parallel()
	log := auditFixture(t)
	tests := []struct {
		name     string
		args     []string
		want     []string
		not      []string
		exitCode int
	}{
		{name: "table", args: []string{"audit", "--log", log},
			want: []string{"DECISION", "alice", "read_only_rootfs", "pids_limit(dryrun)", "warning: skipped " + log + ":5", "COMPOSE", "shop/web", "shop volume data"}},
		{name: "filter by compose project", args: []string{"audit", "--log", log, "--project", "shop"}, want: []string{"carol", "shop/web", "shop volume data"}, not: []string{"alice", "bob"}},
		{name: "filter by compose service", args: []string{"audit", "--log", log, "--project", "shop", "--service", "db"}, want: []string{"no matching records"}, not: []string{"carol"}},
		{name: "filter by rule", args: []string{"audit", "--log", log, "--rule", "read_only_rootfs"}, want: []string{"alice"}, not: []string{"bob"}},
		{name: "filter by decision", args: []string{"audit", "--log", log, "--decision", "dryrun-deny"}, want: []string{"bob"}, not: []string{"alice"}},
		{name: "since in the future", args: []string{"audit", "--log", log, "--since", "-1h"}, want: []string{"no matching records"}, not: []string{"alice"}},
		{name: "summary", args: []string{"audit", "summary", "--log", log}, want: []string{"4 records: 3 denied, 1 dry-run denied", "read_only_rootfs  1     0", "pids_limit        0     1"}},
		{name: "bad --since", args: []string{"audit", "--log", log, "--since", "yesterday"}, exitCode: 2},
		{name: "bad --decision", args: []string{"audit", "--log", log, "--decision", "maybe"}, exitCode: 2},
		{name: "missing log", args: []string{"audit", "--log", filepath.Join(t.TempDir(), "none.log")}, exitCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, t.Context(), tt.args...)
			var ee *ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.Code
			} else if err != nil {
				code = 1
			}
			if code != tt.exitCode {
				t.Fatalf("exit %d (%v), want %d; output:\n%s", code, err, tt.exitCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestAuditJSON(t *testing.T) {
	t.Parallel()
	log := auditFixture(t)
	out, err := run(t, t.Context(), "audit", "--log", log, "--json", "--user", "alice")
	if err != nil {
		t.Fatal(err)
	}
	var rec audit.Record
	line := strings.SplitN(strings.TrimSpace(out), "\n", 2)
	// stderr (the warning) is mixed into out in tests; find the JSON line.
	for _, l := range line {
		if strings.HasPrefix(l, "{") {
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rec.User != "alice" || rec.DecisionID != "d1" || rec.Violations[0].ID != "read_only_rootfs" || time.Since(rec.Time) > time.Hour {
		t.Fatalf("record %+v", rec)
	}
}

func TestParseWhen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h":                  now.Add(-24 * time.Hour),
		"2026-11-25T10:00:00Z": time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseWhen("2026-11-25", now); err != nil {
		t.Error(err)
	}
}
