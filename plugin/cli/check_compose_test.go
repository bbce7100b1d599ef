package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const composeApp = "testdata/compose/app"

// composeCommand finds a Compose v2 client, as dockward check would run it.
func composeCommand(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("docker-compose"); err == nil {
		if out, err := exec.Command(p, "version", "--short").Output(); err == nil && strings.HasPrefix(string(out), "2.") {
			return p
		}
	}
	if p, err := exec.LookPath("docker"); err == nil {
		if out, err := exec.Command(p, "compose", "version", "--short").Output(); err == nil && strings.HasPrefix(string(out), "2.") {
			return p + " compose"
		}
	}
	// install/test.sh builds Compose before the unit tests run: without it
	// this test would prove nothing, so it fails unless told to skip.
	const why = "no Compose v2 client (install/test.sh builds it from its Go module and installs it as the docker CLI plugin)"
	if os.Getenv("DOCKWARD_E2E_ALLOW_SKIP") == "1" {
		t.Skip(why + " (skipped: DOCKWARD_E2E_ALLOW_SKIP=1)")
	}
	t.Fatal(why + " (set DOCKWARD_E2E_ALLOW_SKIP=1 to skip instead)")
	return ""
}

// TestCheckCompose lets the real docker compose load the project the way
// it loads it for `up` (files merged in order, profiles, .env in the project
// directory, --env-file, --project-directory) and decides what it would
// create, with no daemon at all.
func TestCheckCompose(t *testing.T) {
	t.Parallel()
	compose := composeCommand(t)
	app, err := filepath.Abs(composeApp)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string // working directory ("" for the project's)
		args []string
		code int
		want []string
		not  []string
	}{
		{name: "hardened, .env gives the user", args: []string{"compose.yaml"}, code: 0,
			want: []string{"compose project app (compose.yaml)", "ALLOWED  service api (container app-api-1, image busybox, compose.yaml:4)",
				"ALLOWED  pull docker.io/library/busybox:latest", "ALLOWED  network app_default", "1 service: 0 denied, 1 allowed"},
			not: []string{"service debug"}},
		{name: "--env-file replaces .env", args: []string{"--env-file", "root.env", "compose.yaml"}, code: 1,
			want: []string{"DENIED   service api", "policy violation in Compose service api (project app):",
				`[non_root_user] user "0" is uid 0 (root) — fix: set user: "1000:1000" on the service (a non-zero uid)`}},
		{name: "--level judges the project at another level", args: []string{"--level", "baseline", "--env-file", "root.env", "compose.yaml"}, code: 0,
			want: []string{"ALLOWED  service api"}},
		{name: "-f files merge in order", args: []string{"-f", "compose.yaml", "-f", "compose.dev.yaml"}, code: 1,
			want: []string{"compose project app (compose.yaml, compose.dev.yaml)", "DENIED   service api (container app-api-1, image busybox, compose.yaml:4)",
				"[no_privileged] container is privileged — fix: remove privileged: true"}},
		{name: "a profile adds its services", args: []string{"--profile", "debug", "compose.yaml"}, code: 1,
			want: []string{"ALLOWED  service api", "DENIED   service debug (container app-debug-1, image busybox, compose.yaml:16)",
				"[read_only_rootfs] root filesystem is writable — fix: set read_only: true on the service", "2 services: 1 denied, 1 allowed"}},
		{name: "--project-directory and -p from elsewhere", dir: t.TempDir(),
			args: []string{"--project-directory", app, "-p", "shop", "-f", filepath.Join(app, "compose.yaml")}, code: 0,
			want: []string{"compose project shop (" + filepath.Join(app, "compose.yaml") + ")", "ALLOWED  service api (container shop-api-1"}},
		{name: "no Compose client", args: []string{"--compose", "/nonexistent/docker-compose", "compose.yaml"}, code: 2,
			want: []string{"docker compose (Compose v2) is not installed", "install the Compose plugin"}},
		{name: "a file Compose cannot load", args: []string{"missing.yaml"}, code: 2, want: []string{"compose config:"}},
		{name: "a build is the daemon's to judge at build time", dir: filepath.Join(filepath.Dir(app), "build"), args: []string{"compose.yaml"}, code: 1,
			want: []string{"DENIED   service app (container build-app-1, image build-app, compose.yaml:2)", "not judged here: its image build"},
			not:  []string{"pull "}},
		{name: "a volume that binds a host path", dir: filepath.Join(filepath.Dir(app), "volume"), args: []string{"compose.yaml"}, code: 1,
			want: []string{"DENIED   volume volume_data", "policy violation in Compose volume data (project volume):",
				"— fix: remove driver_opts device and o: bind from the volume in volumes:",
				// the container mounting it is judged on what it reaches too
				"DENIED   service app", "[host_mounts]", "1 service: 1 denied, 0 allowed; 1 of 3 other requests denied"}},
		{name: "docker compose up after --", args: []string{"--", "docker", "compose", "up", "-d"}, code: 2, want: []string{"check the project instead"}},
		{name: "docker -H ... compose up after --", args: []string{"--", "docker", "-H", "unix:///x.sock", "compose", "up"}, code: 2, want: []string{"check the project instead"}},
		{name: "docker-compose up after --", args: []string{"--", "/usr/bin/docker-compose", "up"}, code: 2, want: []string{"check the project instead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := tt.dir
			if dir == "" {
				dir = app
			}
			args := append([]string{"check", "--policy-dir", "../../policies", "--docker-host", "unix:///nonexistent/docker.sock", "--compose", compose}, tt.args...)
			out, code := runIn(t, dir, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range append(tt.not, "dwc-unit-secret-value") {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}

// TestCheckComposeFormats: --format json and sarif carry the same verdict,
// the service's file and line, and no environment value.
func TestCheckComposeFormats(t *testing.T) {
	t.Parallel()
	compose := composeCommand(t)
	app, _ := filepath.Abs(composeApp)
	base := []string{"check", "--policy-dir", "../../policies", "--docker-host", "unix:///nonexistent/docker.sock", "--compose", compose,
		"--profile", "debug", "-f", "compose.yaml", "-f", "compose.dev.yaml"}

	out, code := runIn(t, app, append(base, "--format", "json")...)
	if code != 1 {
		t.Fatalf("json: exit %d, want 1:\n%s", code, out)
	}
	var rep struct {
		Project  string
		Files    []string
		Allow    bool
		Services []struct {
			Service, File, Decision string
			Line                    int
			Containers              []string
			Violations              []struct{ ID, Fix string }
		}
		Resources []struct{ Kind, Name, Decision string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Project != "app" || rep.Allow || len(rep.Services) != 2 || strings.Join(rep.Files, ",") != "compose.yaml,compose.dev.yaml" {
		t.Fatalf("json report %+v", rep)
	}
	api, debug := rep.Services[0], rep.Services[1]
	if api.Service != "api" || api.File != "compose.yaml" || api.Line != 4 || api.Decision != "deny" ||
		len(api.Violations) != 1 || api.Violations[0].ID != "no_privileged" || api.Violations[0].Fix != "remove privileged: true" {
		t.Errorf("api: %+v", api)
	}
	if debug.Service != "debug" || debug.Line != 16 || strings.Join(debug.Containers, ",") != "app-debug-1" {
		t.Errorf("debug: %+v", debug)
	}
	// No daemon has busybox: Compose pulls it (for each service), and
	// each pull is judged (image_pull_trusted).
	kinds := map[string]int{}
	for _, r := range rep.Resources {
		kinds[r.Kind+" "+r.Name+" "+r.Decision]++
	}
	if kinds["network app_default allow"] != 1 || kinds["pull docker.io/library/busybox:latest allow"] < 1 || len(kinds) != 2 {
		t.Errorf("resources: %+v", rep.Resources)
	}

	out, code = runIn(t, app, append(base, "--format", "sarif")...)
	if code != 1 {
		t.Fatalf("sarif: exit %d, want 1:\n%s", code, out)
	}
	var log sarifForTest
	if err := json.Unmarshal([]byte(out), &log); err != nil || log.Version != "2.1.0" || log.Schema == "" || len(log.Runs) != 1 {
		t.Fatalf("not SARIF 2.1.0 (%v):\n%s", err, out)
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "dockward" || !run.Invocations[0].ExecutionSuccessful {
		t.Errorf("tool %+v, invocations %+v", run.Tool.Driver.Name, run.Invocations)
	}
	lines := map[string]int{}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || r.Level != "error" {
			t.Errorf("result %+v: wrong rule index or level", r)
		}
		loc := r.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "compose.yaml" {
			t.Errorf("result %s at %s, want compose.yaml", r.RuleID, loc.ArtifactLocation.URI)
		}
		svc, _, _ := strings.Cut(r.Message.Text, ":")
		lines[svc] = loc.Region.StartLine
	}
	if lines["service api"] != 4 || lines["service debug"] != 16 {
		t.Errorf("SARIF lines %v, want api at 4 and debug at 16", lines)
	}
	if strings.Contains(out, "dwc-unit-secret-value") {
		t.Errorf("SARIF holds an environment value")
	}

	if out, code := runIn(t, app, "check", "--format", "sarif", "--policy-dir", "../../policies", "--", "docker", "ps"); code != 2 || !strings.Contains(out, "--format sarif is for Compose files") {
		t.Errorf("sarif of a docker command: exit %d\n%s", code, out)
	}
}

type sarifForTest struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID string `json:"id"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
	}
}

// runIn runs dockward (this test binary, TestMain) in dir: check resolves
// compose.yaml and shows paths relative to it.
func runIn(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	// The policy directory is relative to this package.
	wd, _ := os.Getwd()
	for i, a := range args {
		if a == "../../policies" {
			args[i] = filepath.Join(wd, a)
		}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asDockward+"=1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestReadmeCompose: the README's compliant compose.yaml is the one the
// end-to-end tests bring up on both engines, and the flags and the CI
// recipe it gives are check's.
func TestReadmeCompose(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	compliant, err := os.ReadFile("../e2e/testdata/compose/compliant/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+string(compliant)+"```") {
		t.Errorf("README's compliant compose.yaml is not plugin/e2e/testdata/compose/compliant/compose.yaml")
	}
	if !strings.Contains(string(readme), "dockward check --policy-dir policies compose.yaml --format sarif > dockward.sarif") {
		t.Errorf("README lacks the CI recipe")
	}
	check := newCheck()
	for _, f := range []string{"file", "profile", "env-file", "project-directory", "project-name", "format", "compose", "docker-host"} {
		if check.Flags().Lookup(f) == nil {
			t.Errorf("README names check --%s, which check lacks", f)
		}
	}
}
