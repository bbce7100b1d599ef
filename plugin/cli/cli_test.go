package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// TestServeRefusesBrokenPolicy: no socket is ever served without a policy
// that compiles, so dockerd can never be answered "allow" by default.
func TestServeRefusesBrokenPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "policies")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "main.rego"), []byte("package authz\ndecision := {"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "p.sock")
	for _, pdir := range []string{broken, filepath.Join(dir, "missing"), t.TempDir()} {
		_, err := run(t, t.Context(), "serve", "--socket", sock, "--policy-dir", pdir, "--audit-log", filepath.Join(dir, "a.log"))
		if err == nil || !strings.Contains(err.Error(), "refusing to start") {
			t.Errorf("policy dir %s: err = %v, want refusing to start", pdir, err)
		}
		if _, statErr := os.Stat(sock); statErr == nil {
			t.Errorf("socket exists after a refused start")
		}
	}
}

// TestServeFlagsOverrideFile: defaults < config file < flags.
func TestServeFlagsOverrideFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	sock := filepath.Join(dir, "p.sock")
	audit := filepath.Join(dir, "from-file.log")
	content := "socket: " + sock + "\npolicy_dir: ../../policies\naudit_log: " + audit + "\n"
	if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// policy_dir in the file is relative: invalid, so the flag must win for
	// the start to succeed.
	abs, _ := filepath.Abs("../policy/testdata/minimal")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := run(t, ctx, "serve", "--config", cfg, "--policy-dir", abs,
			"--owner-db", filepath.Join(dir, "owners.db"), "--control-socket", filepath.Join(dir, "control.sock"))
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("socket never appeared")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(audit); err != nil {
		t.Errorf("audit log from the config file not opened: %v", err)
	}
	if info, _ := os.Stat(sock); info.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", info.Mode().Perm())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestHelpHasExamples(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"policy", "test", "--help"}, {"policy", "check", "--help"}, {"daemon-config", "--help"}, {"own", "--help"}, {"version", "--help"}} {
		out, err := run(t, t.Context(), args...)
		if err != nil || !strings.Contains(out, "Examples:") {
			t.Errorf("%v: err %v, no Examples in:\n%s", args, err, out)
		}
	}
}

func TestPolicyCommands(t *testing.T) {
	t.Parallel()
	out, err := run(t, t.Context(), "policy", "test", "../policy/testdata/minimal", "--coverage")
	if err != nil || !strings.Contains(out, "2 tests, 2 passed, 0 failed") || !strings.Contains(out, "coverage:") {
		t.Fatalf("policy test: %v\n%s", err, out)
	}
	out, err = run(t, t.Context(), "policy", "check", "../policy/testdata/minimal")
	if err != nil || !strings.Contains(out, "ok: 1 rules") {
		t.Fatalf("policy check: %v\n%s", err, out)
	}
	// A broken edit is caught with file:line.
	dir := t.TempDir()
	rule := filepath.Join(dir, "authz", "x.rego")
	os.MkdirAll(filepath.Dir(rule), 0o755)
	os.WriteFile(rule, []byte("package authz\n\ndecision := {\"allow\": true\n"), 0o644)
	_, err = run(t, t.Context(), "policy", "check", dir)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "x.rego:") {
		t.Fatalf("broken policy: exit %d, %v", exitCode(err), err)
	}
	// A failing Rego test fails the command.
	os.WriteFile(rule, []byte("package authz\n\ndecision := {\"allow\": true}\n\ntest_fails if decision.allow == false\n"), 0o644)
	out, err = run(t, t.Context(), "policy", "test", dir)
	if exitCode(err) != 1 || !strings.Contains(out, "FAIL data.authz.test_fails") {
		t.Fatalf("failing test: exit %d\n%s", exitCode(err), out)
	}
}
