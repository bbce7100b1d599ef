//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeSweepsLeftoverHelpers: a passwd helper a crash left (created by
// readPasswd, never started) is removed when dockward serve starts; a
// container that only wears the helper's label and name, but has run, and
// one with the label but not the name, stay. The second serve runs on a
// scratch socket (dockerd keeps asking the harness's plugin) and sweeps the
// isolated daemon it is pointed at.
func TestServeSweepsLeftoverHelpers(t *testing.T) {
	hs := env(t)
	helper := []string{"--label", "dockward.purpose=read /etc/passwd to resolve a user name",
		"--user", "65534:65534", "--network", "none", "--read-only", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "--memory", "16m", "--cpus", "0.1", "--pids-limit", "1"}
	create := func(verb, name string, flags []string) string {
		args := append(append([]string{verb, "--name", name}, flags...), testImage, "true")
		id := strings.TrimSpace(hs.mustDocker(t, args...))
		if verb == "run" {
			id = strings.TrimSpace(hs.mustDocker(t, "inspect", "--format", "{{.Id}}", name))
		}
		t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
		return id
	}
	left := create("create", "dockward-passwd-e2e0000000000001", helper)
	ran := create("run", "dockward-passwd-e2e0000000000002", helper)
	unnamed := create("create", "sweep-not-a-helper", helper)

	log := filepath.Join(t.TempDir(), "sweep.log")
	p, err := hs.start("dockward-sweep", log, nil, hs.dockward, "serve",
		"--socket", filepath.Join(hs.dir, "sweep.sock"),
		"--policy-dir", hs.policyDir,
		"--audit-log", filepath.Join(t.TempDir(), "audit.log"),
		"--docker-host", "unix://"+hs.dockerSock,
		"--owner-db", filepath.Join(hs.dir, "owners-sweep.db"), "--control-socket", filepath.Join(hs.dir, "control-sweep.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(5 * time.Second)
	line := waitForLog(t, log, 0, "removed passwd helper containers", 30*time.Second)
	if !strings.Contains(line, "dockward-passwd-e2e0000000000001") || strings.Contains(line, "e2e0000000000002") {
		t.Errorf("sweep log: %s", line)
	}
	// What the daemon has now: the leftover is gone, the others are kept.
	for id, want := range map[string]bool{left: false, ran: true, unnamed: true} {
		r := hs.docker(t, "inspect", "--format", "{{.Name}} {{.State.Status}}", id)
		if exists := r.code == 0; exists != want {
			t.Errorf("container %s exists=%v after the sweep, want %v (%v)", id[:12], exists, want, r)
		}
	}
}
