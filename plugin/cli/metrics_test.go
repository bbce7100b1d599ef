package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestMetricsAndHealth scrapes a running plugin: decisions by result and
// rule, the policy revision, a failed reload, and the health endpoint.
func TestMetricsAndHealth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pol := testutil.CopyTree(t, "../policy/testdata/minimal")
	sock := filepath.Join(dir, "p.sock")
	port := freePort(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := run(t, ctx, "serve", "--socket", sock, "--policy-dir", pol, "--audit-log", filepath.Join(dir, "a.log"),
			"--metrics-addr", fmt.Sprintf(":%d", port), "--docker-host", "unix://"+filepath.Join(dir, "none.sock"))
		done <- err
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := get("/healthz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("healthz never answered 200")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("plugin socket never answered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	plugin := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	body := base64.StdEncoding.EncodeToString([]byte(`{"Image":"b","User":"1","HostConfig":{"Privileged":true}}`))
	req := `{"RequestMethod":"POST","RequestUri":"/v1.41/containers/create","RequestHeaders":{"Content-Type":"application/json"},"RequestBody":"` + body + `"}`
	resp, err := plugin.Post("http://p/AuthZPlugin.AuthZReq", "application/json", bytes.NewReader([]byte(req)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// SIGHUP reloads (nothing changed on disk, so the watcher is quiet):
	// the reload timestamp moves.
	reloadedAt := func() string {
		_, text := get("/metrics")
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "dockward_policy_last_reload_timestamp_seconds ") {
				return line
			}
		}
		return ""
	}
	before := reloadedAt()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for reloadedAt() == before {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload (%s)", before)
		}
		time.Sleep(20 * time.Millisecond)
	}

	rule := filepath.Join(pol, "authz", "rules", "container", "no_privileged", "no_privileged.rego")
	if err := os.WriteFile(rule, []byte("package broken {"), 0o644); err != nil {
		t.Fatal(err)
	}
	var text string
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, text = get("/metrics")
		if strings.Contains(text, "dockward_policy_last_reload_success 0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed reload in metrics:\n%s", text)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{
		`dockward_decisions_total{endpoint="container.create",result="deny"} 1`,
		`dockward_violations_total{handling="enforced",rule="no_privileged"} 1`,
		`dockward_policy_info{revision="93a63cabddf7`,
		`dockward_decision_duration_seconds_count 1`,
		`dockward_audit_write_errors_total 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The last good policy is still in force: healthy.
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d after a failed reload", code)
	}
	cancel()
	<-done
}
