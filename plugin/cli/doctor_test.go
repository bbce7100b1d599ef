package cli

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockward/dockward/plugin/canary"
)

// doctor exits 1 (silently: the report said it all) when a check fails,
// prints the report as text or JSON, and takes serve's config file.
func TestDoctorCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, "socket: "+filepath.Join(dir, "p.sock")+"\n")
	args := []string{"doctor", "--config", cfg,
		"--docker-host", "unix://" + filepath.Join(dir, "none.sock")}
	out, err := run(t, t.Context(), args...)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !ee.Silent {
		t.Fatalf("err = %v, want a silent exit 1", err)
	}
	for _, want := range []string{"dockward doctor: plugin p (socket " + filepath.Join(dir, "p.sock") + ")", "FAIL  plugin answers", "fix: start it", "— FAILED"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	out, _ = run(t, t.Context(), append(args, "--json")...)
	var rep struct {
		OK     bool
		Plugin string
		Checks []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.OK || rep.Plugin != "p" || len(rep.Checks) == 0 || rep.Checks[0].ID != "plugin.answers" || rep.Checks[0].Status != "fail" {
		t.Fatalf("json report %+v (%v):\n%s", rep, err, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "canary_interval: -1s\n")
	if _, err := run(t, t.Context(), "doctor", "--config", bad); err == nil || !strings.Contains(err.Error(), "invalid canary_interval") {
		t.Errorf("a bad config: %v", err)
	}
}

// doctor probe sends one canary and prints what it means.
func TestDoctorProbe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := &authzDaemon{} // not enforcing: the create goes on to the image lookup
	sock := filepath.Join(dir, "d.sock")
	d.serve(t, sock)
	out, err := run(t, t.Context(), "doctor", "probe", "--docker-host", "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	var r canary.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Outcome != canary.NotEnforcing || !strings.HasPrefix(r.Name, canary.NamePrefix) {
		t.Fatalf("%+v %v: %s", r, err, out)
	}
}
