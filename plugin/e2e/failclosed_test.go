//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUndecodableCreateBodyIsDenied: a create whose body the plugin cannot
// read is refused, never waved through.
func TestUndecodableCreateBodyIsDenied(t *testing.T) {
	hs := env(t)
	tests := []struct {
		name string
		body string
	}{
		{"empty body", ""},
		{"not JSON", `{"Image": "` + testImage + `", "HostConfig": {`},
		{"JSON but not an object", `["` + testImage + `"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hs.containerCount(t)
			req, err := http.NewRequest(http.MethodPost, "http://docker/v1.41/containers/create", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := hs.apiClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403; body: %s", resp.StatusCode, msg)
			}
			if !strings.Contains(string(msg), "dockward") {
				t.Errorf("the refusal does not name dockward: %s", msg)
			}
			if after := hs.containerCount(t); after != before {
				t.Errorf("containers: %d before, %d after", before, after)
			}
		})
	}
}

// TestServeRefusesWithoutAPolicy: no policy, no plugin (dockerd then
// denies everything instead of allowing everything).
func TestServeRefusesWithoutAPolicy(t *testing.T) {
	hs := env(t)
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"empty directory", nil},
		{"syntax error", map[string]string{"authz/main.rego": "package authz\n\ndecision := {\n"}},
		{"no decision", map[string]string{"authz/main.rego": "package authz\n\nx := 1\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			policies := filepath.Join(dir, "policies")
			if err := os.MkdirAll(policies, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, body := range tt.files {
				p := filepath.Join(policies, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sock := filepath.Join(dir, "p.sock")
			var out bytes.Buffer
			cmd := exec.Command(hs.dockward, "serve",
				"--socket", sock, "--policy-dir", policies,
				"--audit-log", filepath.Join(dir, "audit.log"),
				"--owner-db", filepath.Join(dir, "owners.db"), "--control-socket", filepath.Join(dir, "control.sock"))
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			deadline := time.After(10 * time.Second)
			for serving := false; !serving; {
				select {
				case err := <-done:
					if err == nil {
						t.Fatalf("serve exited 0 without a usable policy:\n%s", out.String())
					}
					return
				case <-deadline:
					serving = true
				case <-time.After(100 * time.Millisecond):
					_, err := os.Stat(sock)
					serving = err == nil
				}
			}
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("serve did not refuse to start (socket %s or still running after 10s):\n%s", sock, out.String())
		})
	}
}
