package policy

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const minimal = "testdata/minimal"

func TestLoadFailsClosed(t *testing.T) {
	t.Parallel()
	rule := "authz/rules/container/no_privileged/no_privileged.rego"
	tests := []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"missing directory", func(t *testing.T, dir string) { os.RemoveAll(dir) }, "policy directory"},
		{"no rego files", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "authz"))
		}, "no .rego policy files"},
		{"syntax error", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, rule), "package authz.rules.container.no_privileged\ndeny contains x if {")
		}, "no_privileged.rego:"},
		{"strict-mode error (unused import)", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "authz/rules/container/x/x.rego"),
				"# METADATA\n# title: x\n# custom:\n#  fix: f\n#  severity: low\n#  levels: [restricted]\npackage authz.rules.container.x\nimport data.foo\ndeny contains 1 if false\n")
		}, "import data.foo unused"},
		{"rule without fix metadata", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "authz/rules/container/y/y.rego"),
				"# METADATA\n# title: y\npackage authz.rules.container.y\ndeny contains 1 if false\n")
		}, "lacks METADATA custom.fix, custom.levels, custom.severity"},
		{"rule without levels", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "authz/rules/container/y/y.rego"),
				"# METADATA\n# title: y\n# custom:\n#  fix: f\n#  severity: low\npackage authz.rules.container.y\ndeny contains 1 if false\n")
		}, "package data.authz.rules.container.y lacks METADATA custom.levels"},
		{"rule with an unknown level", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "authz/rules/container/y/y.rego"),
				"# METADATA\n# title: y\n# custom:\n#  fix: f\n#  severity: low\n#  levels: [baseline, strict]\npackage authz.rules.container.y\ndeny contains 1 if false\n")
		}, "custom.levels names strict: expected one of privileged, baseline, restricted"},
		{"rule with levels not a list", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "authz/rules/container/y/y.rego"),
				"# METADATA\n# title: y\n# custom:\n#  fix: f\n#  severity: low\n#  levels: restricted\npackage authz.rules.container.y\ndeny contains 1 if false\n")
		}, "custom.levels is restricted: expected a list of levels"},
		{"no decision", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "authz/main.rego"), "package authz\nx := 1\n")
		}, "defines data.authz.decision"},
		{"decision undefined at run time", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "authz/main.rego"), "package authz\ndecision := 1 if false\n")
		}, "undefined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := testutil.CopyTree(t, minimal)
			tt.edit(t, dir)
			c, err := Load(t.Context(), dir)
			if tt.want == "undefined" {
				// A policy without a decision compiles; evaluating it must fail.
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if _, err := c.Eval(t.Context(), map[string]any{}); err == nil || !strings.Contains(err.Error(), "undefined") {
					t.Fatalf("Eval err = %v, want undefined decision", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEval(t *testing.T) {
	t.Parallel()
	c, err := Load(t.Context(), minimal)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 1 || c.Rules[0] != "no_privileged" || len(c.Revision) != 64 {
		t.Fatalf("rules %v revision %q", c.Rules, c.Revision)
	}
	d, err := c.Eval(t.Context(), map[string]any{"route": map[string]any{"endpoint": "container.create"}, "container": map[string]any{"privileged": true}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || len(d.Violations) != 1 || d.Violations[0].ID != "no_privileged" {
		t.Fatalf("decision %+v", d)
	}
	d, err = c.Eval(t.Context(), map[string]any{"route": map[string]any{"endpoint": "container.list"}})
	if err != nil || !d.Allow {
		t.Fatalf("GET decision %+v, %v", d, err)
	}
	// A timeout is an error (the caller denies), not an allow.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Eval(ctx, map[string]any{"container": map[string]any{"image": "slow"}}); err == nil {
		t.Fatal("slow evaluation under a 50ms deadline did not fail")
	}
}

// TestReloadKeepsLastGood edits the policy under a running engine: a broken
// edit leaves the old policy in force, a good one replaces it.
func TestReloadKeepsLastGood(t *testing.T) {
	t.Parallel()
	dir := testutil.CopyTree(t, minimal)
	c, err := Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(c)
	log := logrus.New()
	log.SetOutput(io.Discard)
	var mu sync.Mutex
	var outcomes []error
	r := &Reloader{Engine: e, Dir: dir, Log: log, OnReload: func(_ *Compiled, err error) {
		mu.Lock()
		outcomes = append(outcomes, err)
		mu.Unlock()
	}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = r.Watch(ctx, 20*time.Millisecond) }()
	time.Sleep(100 * time.Millisecond) // let the watcher start

	rule := filepath.Join(dir, "authz/rules/container/no_privileged/no_privileged.rego")
	write(t, rule, "package authz.rules.container.no_privileged\ndeny contains x if {")
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(outcomes) >= 1 })
	mu.Lock()
	if outcomes[0] == nil {
		t.Fatal("broken edit reloaded without error")
	}
	mu.Unlock()
	if e.Current() != c {
		t.Fatal("broken edit replaced the running policy")
	}

	// A good edit in a new rule directory (watched since its creation).
	write(t, rule, "# METADATA\n# title: t\n# custom:\n#  fix: f\n#  severity: low\n#  levels: [restricted]\npackage authz.rules.container.no_privileged\n\ndeny contains {\"id\": \"no_privileged\", \"msg\": \"always\"} if true\n")
	waitFor(t, func() bool { return e.Current() != c })
	d, err := e.Current().Eval(t.Context(), map[string]any{})
	if err != nil || d.Allow {
		t.Fatalf("new policy not in force: %+v %v", d, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLoadRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct{ data, want string }{
		{`{"authz_config":{"modes":{"x":"audit"}}}`, `modes.x is "audit"`},
		{`{"authz_config":{"exemptions":[{"rules":["*"]}]}}`, "has no reason"},
		{`{"authz_config":{"exemptions":[{"reason":"r","expires":"next week"}]}}`, `expires "next week"`},
		{`{"authz_config":{"exemptions":[{"reason":"r","expires":"2999-01-01T00:00:00Z"}]}}`, "before 2262"},
		{`{"authz_config":{"exempt_users":"alice"}}`, "authz_config"},
	}
	for _, tt := range tests {
		dir := testutil.CopyTree(t, minimal)
		write(t, filepath.Join(dir, "data.json"), tt.data)
		if _, err := Load(t.Context(), dir); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("data %s: err = %v, want %q", tt.data, err, tt.want)
		}
	}
}
