//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// editData changes authz_config in the running plugin's data.json, waits
// until the plugin has reloaded it, and restores the original at cleanup.
func (hs *harness) editData(t *testing.T, edit func(cfg map[string]any)) {
	t.Helper()
	dataFile := filepath.Join(hs.policyDir, "data.json")
	orig, err := os.ReadFile(dataFile)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(orig, &data); err != nil {
		t.Fatal(err)
	}
	edit(data["authz_config"].(map[string]any))
	edited, _ := json.MarshalIndent(data, "", "  ")
	off := logSize(t, hs.pluginLog)
	hs.writeFileAtomic(t, dataFile, edited)
	waitForLog(t, hs.pluginLog, off, "policy reloaded", reloadTimeout)
	t.Cleanup(func() {
		off := logSize(t, hs.pluginLog)
		hs.writeFileAtomic(t, dataFile, orig)
		waitForLog(t, hs.pluginLog, off, "policy reloaded", reloadTimeout)
	})
}

// dockwardCmd runs the dockward binary the harness built; it returns its
// stdout and exit code.
func (hs *harness) dockwardCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(hs.dockward, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String() + errOut.String(), ee.ExitCode()
	}
	t.Fatalf("dockward %v: %v", args, err)
	return "", 0
}

// TestCheckSaysWhatTheDaemonSays: `dockward check -- docker run ...` lets
// the real CLI build the request, touches nothing, and names the same rules
// the daemon's denial names.
func TestCheckSaysWhatTheDaemonSays(t *testing.T) {
	hs := env(t)
	host := "unix://" + hs.dockerSock
	tests := []struct {
		name  string
		flags []string
		code  int
	}{
		{"hardened", hardened, 0},
		{"user resolved in the image's /etc/passwd", replace(hardened, "--user", "--user", "app"), 0},
		{"no --read-only", without(hardened, "--read-only"), 1},
		{"no --user: the image's USER is read from the daemon", without(hardened, "--user"), 1},
		{"several rules", without(without(hardened, "--memory"), "--cap-drop"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hs.containerCount(t)
			args := append([]string{"check", "--policy-dir", hs.policyDir, "--docker-host", host, "--", hs.cli}, runArgs(tt.flags, "true")...)
			out, code := hs.dockwardCmd(t, args...)
			if code != tt.code {
				t.Fatalf("check exit %d, want %d:\n%s", code, tt.code, out)
			}
			if after := hs.containerCount(t); after != before {
				t.Errorf("check changed the container count: %d -> %d", before, after)
			}
			if tt.code == 0 {
				if !strings.Contains(out, "ALLOWED: container.create") {
					t.Errorf("output:\n%s", out)
				}
				return
			}
			d := expectDenied(t, hs.docker(t, runArgs(tt.flags, "true")...))
			var checked []string
			for _, id := range d.rules {
				if strings.Contains(out, "["+id+"]") {
					checked = append(checked, id)
				}
			}
			if !slices.Equal(checked, d.rules) || strings.Count(out, "] ") < len(d.rules) {
				t.Errorf("daemon denied for %v; check said:\n%s", d.rules, out)
			}
		})
	}
}

// TestScanJudgesExistingContainers creates one compliant container and one
// that only a dry-run rule let through, then scans with the enforcing
// policy: the second is reported, and the exit status says so.
func TestScanJudgesExistingContainers(t *testing.T) {
	hs := env(t)
	host := "unix://" + hs.dockerSock
	// The enforcing policy, before the edit below.
	pristine := t.TempDir()
	if err := copyTree(hs.policyDir, pristine); err != nil {
		t.Fatal(err)
	}
	good := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create", "--name", "scan-good"}, hardened...), testImage, "true")...))
	t.Cleanup(func() { hs.docker(t, "rm", "-f", good) })
	// Let a writable root filesystem through for the second container (the
	// edit is undone when the test ends).
	{
		hs.editData(t, func(cfg map[string]any) {
			modes, _ := cfg["modes"].(map[string]any)
			if modes == nil {
				modes = map[string]any{}
			}
			modes["read_only_rootfs"] = "dryrun"
			cfg["modes"] = modes
		})
		// It wears the label of dockward's passwd helpers, which any client
		// can set: scan must judge it all the same (issue 11, item 16).
		bad := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create", "--name", "scan-writable", "--label", "dockward.purpose=read /etc/passwd to resolve a user name"}, without(hardened, "--read-only")...), testImage, "true")...))
		t.Cleanup(func() { hs.docker(t, "rm", "-f", bad) })
	}
	out, code := hs.dockwardCmd(t, "scan", "--all", "--json", "--policy-dir", pristine, "--docker-host", host)
	if code != 1 {
		t.Fatalf("scan exit %d, want 1 (a container breaks the policy):\n%s", code, out)
	}
	var rows []struct {
		Name       string
		Decision   string
		Violations []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("scan --json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range rows {
		var ids []string
		for _, v := range r.Violations {
			ids = append(ids, v.ID)
		}
		got[r.Name] = r.Decision + ":" + strings.Join(ids, ",")
	}
	if got["scan-good"] != "allow:" || got["scan-writable"] != "deny:read_only_rootfs" {
		t.Errorf("scan = %v", got)
	}
	table, _ := hs.dockwardCmd(t, "scan", "--all", "--policy-dir", pristine, "--docker-host", host)
	if !strings.Contains(table, "scan-writable") || !strings.Contains(table, "[read_only_rootfs] root filesystem is writable") {
		t.Errorf("scan table:\n%s", table)
	}
}
