//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// dockerCmd is the docker CLI pointed at our daemon, with a private config
// directory and no DOCKER_* settings from the caller's environment.
func (hs *harness) dockerCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, hs.cli, append([]string{"-H", "unix://" + hs.dockerSock}, args...)...)
	e := []string{"DOCKER_CONFIG=" + filepath.Join(hs.dir, "cli")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") {
			e = append(e, kv)
		}
	}
	cmd.Env = e
	return cmd
}

// result is one CLI invocation.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r result) String() string {
	return fmt.Sprintf("docker %s: exit %d\nstdout: %s\nstderr: %s",
		strings.Join(r.args, " "), r.code, strings.TrimSpace(r.stdout), strings.TrimSpace(r.stderr))
}

// docker runs the CLI and returns its result; only a failure to run it at
// all (or a timeout) fails the test.
func (hs *harness) docker(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := hs.dockerCmd(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		r.code = exitErr.ExitCode()
	default:
		t.Fatalf("docker %s: %v (stderr: %s)", strings.Join(args, " "), err, stderr.String())
	}
	return r
}

// mustDocker runs the CLI and fails the test unless it exits 0.
func (hs *harness) mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	r := hs.docker(t, args...)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	return r.stdout
}

// containerCount is the number of containers the daemon knows, any state.
func (hs *harness) containerCount(t *testing.T) int {
	t.Helper()
	return len(strings.Fields(hs.mustDocker(t, "ps", "-aq")))
}

// runArgs is `run --rm <flags> IMAGE cmd...`.
func runArgs(flags []string, cmd ...string) []string {
	args := append([]string{"run", "--rm"}, flags...)
	args = append(args, testImage)
	return append(args, cmd...)
}

// runAllowed runs a container that the policy must allow. If the run fails
// for a reason that is not authorization (this machine's runtime or
// cgroups), it falls back to create + inspect, which still proves the
// plugin allowed the create.
func (hs *harness) runAllowed(t *testing.T, flags []string) {
	t.Helper()
	r := hs.docker(t, runArgs(flags, "true")...)
	if r.code == 0 {
		return
	}
	if strings.Contains(r.stderr, deniedPrefix) || strings.Contains(r.stderr, "plugin dockward") {
		t.Fatalf("a compliant run was denied:\n%v", r)
	}
	t.Logf("run failed for a reason unrelated to authorization; falling back to create + inspect:\n%v", r)
	id := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create"}, flags...), testImage, "true")...))
	t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
	hs.mustDocker(t, "inspect", id)
}

// denial is the parsed error of a denied CLI call.
type denial struct {
	rules      []string // rule ids in brackets, sorted
	decisionID string   // "" when the message names none
	stderr     string
}

var (
	ruleIDRe     = regexp.MustCompile(`\[([a-z][a-z0-9_]*)\]`)
	decisionIDRe = regexp.MustCompile(`dockward decision ([^\s;)]+)`)
)

// expectDenied fails the test unless r is a dockward denial.
func expectDenied(t *testing.T, r result) denial {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("expected a denial, the command succeeded:\n%v", r)
	}
	if !strings.Contains(r.stderr, deniedPrefix) {
		t.Fatalf("expected %q in stderr:\n%v", deniedPrefix, r)
	}
	d := denial{stderr: r.stderr}
	seen := map[string]bool{}
	for _, m := range ruleIDRe.FindAllStringSubmatch(r.stderr, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			d.rules = append(d.rules, m[1])
		}
	}
	sort.Strings(d.rules)
	if m := decisionIDRe.FindStringSubmatch(r.stderr); m != nil {
		d.decisionID = m[1]
	}
	return d
}

// flag edits on the hardened list: each test changes one thing.

// without drops every token that is the flag or starts with "flag=".
func without(flags []string, flag string) []string {
	var out []string
	for _, f := range flags {
		if f == flag || strings.HasPrefix(f, flag+"=") {
			continue
		}
		out = append(out, f)
	}
	return out
}

// replace drops flag and appends repl.
func replace(flags []string, flag string, repl ...string) []string {
	return append(without(flags, flag), repl...)
}

// with appends extra.
func with(flags []string, extra ...string) []string {
	return append(append([]string(nil), flags...), extra...)
}

// auditRecord is the part of an audit line the tests read.
type auditRecord struct {
	Decision       string      `json:"decision"`
	DecisionID     string      `json:"decision_id"`
	Endpoint       string      `json:"endpoint"`
	Image          string      `json:"image"`
	User           *string     `json:"user"`
	Method         string      `json:"method"`
	Path           string      `json:"path"`
	PolicyRevision string      `json:"policy_revision"`
	Violations     []auditItem `json:"violations"`
	DryRun         []auditItem `json:"dryrun"`
}

type auditItem struct {
	ID  string `json:"id"`
	Msg string `json:"msg"`
}

func (a auditRecord) has(items []auditItem, id string) bool {
	for _, v := range items {
		if v.ID == id {
			return true
		}
	}
	return false
}

// auditRecords parses every line of the audit log; a line that is not a
// JSON object fails the test.
func (hs *harness) auditRecords(t *testing.T) []auditRecord {
	t.Helper()
	f, err := os.Open(hs.auditLog)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	defer f.Close()
	var recs []auditRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var rec auditRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit log line %d is not a JSON object: %v\n%s", n, err, sc.Text())
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read audit log: %v", err)
	}
	return recs
}

// logSize is the current size of a log, to wait for lines written after it.
func logSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fi.Size()
}

// waitForLog polls path from offset until a line contains substr.
func waitForLog(t *testing.T, path string, offset int64, substr string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if int64(len(b)) > offset {
			for _, line := range strings.Split(string(b[offset:]), "\n") {
				if strings.Contains(line, substr) {
					return line
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line containing %q in %s after %s; new lines:\n%s", substr, path, timeout, b[min(offset, int64(len(b))):])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeFileAtomic replaces path through a rename from outside the policy
// directory, so the watcher never sees a half-written file.
func (hs *harness) writeFileAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp, err := os.CreateTemp(hs.dir, "edit-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		t.Fatal(err)
	}
}

// apiClient speaks HTTP to the daemon socket, for requests the CLI would
// never send.
func (hs *harness) apiClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", hs.dockerSock)
			},
		},
	}
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
