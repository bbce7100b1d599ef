package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

const minimalPolicy = "../policy/testdata/minimal"

func exitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	}
	return 1
}

// TestCheckWithRealCLI lets the real docker CLI parse the flags.
func TestCheckWithRealCLI(t *testing.T) {
	t.Parallel()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker CLI on PATH (install/test.sh installs docker.io)")
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"denied", []string{docker, "run", "--rm", "--user", "1000", "--privileged", "busybox", "true"}, 1,
			[]string{"DENIED: container.create (image busybox)", "[no_privileged] container is privileged — fix: remove --privileged"}},
		{"allowed", []string{docker, "create", "--user", "1000", "--read-only", "busybox"}, 0, []string{"ALLOWED: container.create"}},
		{"global -H is replaced", []string{docker, "-H", "unix:///nonexistent.sock", "run", "-u", "1", "--privileged", "alpine"}, 1, []string{"(image alpine)"}},
		// A failed lookup is a plugin failure (exit 2) that still lists
		// every rule to fix, not only the lookup (issue 11, point 16).
		{"a lookup the daemon cannot answer is a failure that lists every violation", []string{docker, "run", "--privileged", "busybox", "true"}, 2,
			[]string{"[request_lookup_failed] the user of image busybox could not be looked up on the daemon", "[no_privileged]", "[read_only_rootfs]", "[non_root_user]"}},
		{"a policy without the lookup guard still denies it", []string{docker, "run", "--read-only", "busybox"}, 2,
			[]string{"facts the decision needs could not be looked up on the daemon: the user of image busybox"}},
		{"docker exec as root", []string{docker, "exec", "-u", "0", "web", "sh"}, 1, []string{"DENIED: container.exec", "[exec_non_root_user]"}},
		{"docker service create", []string{docker, "service", "create", "--user", "1000", "--read-only", "busybox"}, 1,
			[]string{"DENIED: service.create", "[memory_limit] no memory limit is set — fix: add --limit-memory 512m to docker service create"}},
		{"a read sends nothing to check", []string{docker, "ps"}, 2, nil},
		{"the CLI rejects bad flags itself", []string{docker, "run", "--no-such-flag", "busybox"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := minimalPolicy
			if tt.args[1] == "exec" || tt.args[1] == "service" || strings.Contains(tt.name, "lists every violation") {
				dir = "../../policies" // the minimal policy has no exec or service rules
			}
			args := append([]string{"check", "--policy-dir", dir, "--docker-host", "unix:///nonexistent/docker.sock", "--"}, tt.args...)
			out, err := run(t, t.Context(), args...)
			if c := exitCode(err); c != tt.code {
				t.Fatalf("exit %d (%v), want %d; output:\n%s", c, err, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestCheckFile(t *testing.T) {
	t.Parallel()
	out, err := run(t, t.Context(), "check", "--policy-dir", minimalPolicy, "--json", "../testdata/requests/deny/no_privileged/privileged.json")
	if exitCode(err) != 1 || !strings.Contains(out, `"id":"no_privileged"`) {
		t.Fatalf("exit %d, output %s", exitCode(err), out)
	}
	out, err = run(t, t.Context(), "check", "--policy-dir", minimalPolicy, "../testdata/requests/allow/hardened_cli20_10.json")
	if exitCode(err) != 0 || !strings.Contains(out, "ALLOWED") {
		t.Fatalf("exit %d, output %s", exitCode(err), out)
	}
	if _, err := run(t, t.Context(), "check", "--policy-dir", minimalPolicy); exitCode(err) != 2 {
		t.Fatalf("no arguments: exit %d", exitCode(err))
	}
}

// TestCheckNamesTheLevel: check --user judges at the user's level, with
// the groups given by --group; the output says which level and for whom.
func TestCheckNamesTheLevel(t *testing.T) {
	t.Parallel()
	dir := testutil.CopyTree(t, "../../policies")
	data := filepath.Join(dir, "data.json")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `"groups": {}`, `"groups": {"ci": "baseline"}`, 1)
	if edited == string(b) {
		t.Fatal("data.json has no levels.groups to edit")
	}
	if err := os.WriteFile(data, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	req := "../testdata/requests/deny/read_only_rootfs/" + firstFile(t, "../testdata/requests/deny/read_only_rootfs")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"a ci member at baseline", []string{"--user", "carol", "--group", "ci,carol"}, 0,
			[]string{"ALLOWED: container.create", "  judged at level baseline (user carol, groups carol ci)"}},
		{"another group at the default", []string{"--user", "alice", "--group", "docker"}, 1,
			[]string{"DENIED: container.create", "[read_only_rootfs]", "judged at level restricted (user alice, groups docker)"}},
		{"no user at the default", nil, 1, []string{"judged at level restricted (no user)"}},
		{"json carries the level", []string{"--user", "carol", "--group", "ci", "--json"}, 0,
			[]string{`"level":"baseline"`, `"groups":["ci"]`, `"user":"carol"`}},
		{"--group needs --user", []string{"--group", "ci"}, 2, nil},
		{"--level overrides data", []string{"--user", "alice", "--group", "docker", "--level", "baseline"}, 0,
			[]string{"ALLOWED", "judged at level baseline (user alice, groups docker)"}},
		{"--level for a ci member", []string{"--user", "carol", "--group", "ci", "--level", "restricted"}, 1,
			[]string{"[read_only_rootfs]", "judged at level restricted (user carol, groups ci)"}},
		{"--level unknown", []string{"--level", "strict"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"check", "--policy-dir", dir, "--docker-host", "unix:///nonexistent.sock"}, tt.args...), req)
			out, err := run(t, t.Context(), args...)
			if c := exitCode(err); c != tt.code {
				t.Fatalf("exit %d (%v), want %d; output:\n%s", c, err, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func firstFile(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("read %s: %v", dir, err)
	}
	return entries[0].Name()
}
