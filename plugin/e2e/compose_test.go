//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The real Compose v2 client, as a docker CLI plugin of the harness's own
// DOCKER_CONFIG: install/test.sh builds it from its Go module into
// DOCKWARD_E2E_BIN (default /opt/dwtools/bin) as docker-compose.
var (
	composeOnce sync.Once
	composeErr  error
)

func composeBinary() (string, error) {
	var candidates []string
	if p := os.Getenv("DOCKWARD_E2E_COMPOSE"); p != "" {
		candidates = append(candidates, p)
	}
	bin := os.Getenv("DOCKWARD_E2E_BIN")
	if bin == "" {
		bin = "/opt/dwtools/bin"
	}
	candidates = append(candidates, filepath.Join(bin, "docker-compose"),
		"/usr/local/lib/docker/cli-plugins/docker-compose", "/usr/libexec/docker/cli-plugins/docker-compose")
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no Compose v2 binary (looked at %s): install/test.sh builds it", strings.Join(candidates, ", "))
}

// composeReady links Compose into the harness CLI's plugin directory.
func (hs *harness) composeReady(t *testing.T) {
	t.Helper()
	composeOnce.Do(func() {
		var bin string
		if bin, composeErr = composeBinary(); composeErr != nil {
			return
		}
		dir := filepath.Join(hs.dir, "cli", "cli-plugins")
		if composeErr = os.MkdirAll(dir, 0o755); composeErr != nil {
			return
		}
		link := filepath.Join(dir, "docker-compose")
		_ = os.Remove(link)
		composeErr = os.Symlink(bin, link)
	})
	if composeErr != nil {
		envSkip(t, "compose: %v", composeErr)
	}
}

// composeProject is a testdata project with its own name, a free loopback
// port and a secret-looking environment value that must never leave the
// container's own configuration.
type composeProject struct {
	name, dir, token string
	env              []string
}

func newComposeProject(t *testing.T, which, name string) composeProject {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "compose", which))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	p := composeProject{name: name, dir: dir, token: "dwc-token-" + hex.EncodeToString(b)}
	p.env = []string{fmt.Sprintf("DWC_PORT=%d", freePort(t)), "DWC_TOKEN=" + p.token}
	return p
}

// compose runs `docker compose` of the project through the plugin.
func (hs *harness) compose(t *testing.T, p composeProject, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	full := append([]string{"compose", "-p", p.name, "--project-directory", p.dir, "-f", filepath.Join(p.dir, "compose.yaml")}, args...)
	cmd := hs.dockerCmd(ctx, full...)
	cmd.Env = append(cmd.Env, p.env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{args: full, stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("docker %v: %v", full, err)
	}
	return r
}

// check runs `dockward check compose.yaml` of the project from its
// directory, as a developer or CI would, with the real docker compose.
func (hs *harness) composeCheck(t *testing.T, p composeProject, dockerHost string, extra ...string) (string, int) {
	t.Helper()
	args := append([]string{"check", "--policy-dir", hs.policyDir, "--docker-host", dockerHost,
		"--compose", hs.cli + " compose", "-p", p.name}, extra...)
	args = append(args, "compose.yaml")
	cmd := exec.Command(hs.dockward, args...)
	cmd.Dir = p.dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(hs.dir, "cli")), p.env...)
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

// daemonObjects lists every container, network and volume: a check must
// leave it as it was.
func (hs *harness) daemonObjects(t *testing.T) string {
	t.Helper()
	var parts []string
	for _, args := range [][]string{{"ps", "-aq", "--no-trunc"}, {"network", "ls", "-q", "--no-trunc"}, {"volume", "ls", "-q"}} {
		lines := strings.Fields(hs.mustDocker(t, args...))
		sort.Strings(lines)
		parts = append(parts, strings.Join(lines, ","))
	}
	return strings.Join(parts, " | ")
}

// serviceLine is the line of `  name:` in a compose file.
func serviceLine(t *testing.T, file, name string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if l == "  "+name+":" {
			return i + 1
		}
	}
	t.Fatalf("%s has no service %s", file, name)
	return 0
}

var fixLineRe = regexp.MustCompile(`\[([a-z_]+)\] [^\n]* — fix: [^\n]*`)

// TestComposeUpDenied: `docker compose up` of a project that is not
// hardened is denied by the daemon, and the docker CLI's error names the
// Compose service and project and gives every fix as a Compose key (no
// docker run flag); the audit log records project and service and never
// the environment's values; `dockward check compose.yaml` says the same
// (every rule and fix the daemon printed for the service, and the service
// Compose never reached) without creating anything on the daemon; its
// SARIF places each result at the service's line.
func TestComposeUpDenied(t *testing.T) {
	hs := env(t)
	hs.composeReady(t)
	p := newComposeProject(t, "denied", "dwc-denied")
	t.Cleanup(func() { hs.compose(t, p, "down", "-v") })
	offset := logSize(t, hs.auditLog)

	// dockward check first, on a daemon that has nothing of the project
	// (after the denied up below it has the network and volume, which
	// Compose then reuses rather than creates, for check as for up).
	before := hs.daemonObjects(t)
	text, code := hs.composeCheck(t, p, "unix://"+hs.dockerSock)
	t.Logf("dockward check compose.yaml:\n%s", text)
	if code != 1 {
		t.Fatalf("check exit %d, want 1 (denied):\n%s", code, text)
	}
	if after := hs.daemonObjects(t); after != before {
		t.Errorf("check changed the daemon:\nbefore %s\nafter  %s", before, after)
	}

	r := hs.compose(t, p, "up", "-d")
	t.Logf("docker compose up -d:\n%s", r.stderr)
	d := expectDenied(t, r)
	for _, want := range []string{
		"policy violations in Compose service web (project dwc-denied):",
		"[read_only_rootfs] root filesystem is writable — fix: set read_only: true on the service (with tmpfs: [/tmp] for scratch space)",
		"[drop_all_caps] capabilities are not dropped (--cap-drop is []) — fix: set cap_drop: [ALL] on the service",
		`— fix: set user: "1000:1000" on the service (a non-zero uid)`,
		`— fix: publish on loopback only, e.g. ports: ["127.0.0.1:8080:80"]`,
		"— fix: set mem_limit: 512m on the service (at most 4096m), or deploy.resources.limits.memory",
		`— fix: set security_opt: ["no-new-privileges:true"] on the service`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the CLI's error lacks %q", want)
		}
	}
	for _, flag := range []string{"add --read-only", "add --cap-drop", "add --user", "-p 127.0.0.1"} {
		if strings.Contains(r.stderr, flag) {
			t.Errorf("a Compose user is told a docker run flag %q", flag)
		}
	}
	// Compose prints the daemon's error in its progress and again at the
	// end: each fix once.
	var daemonFixes []string
	for _, f := range fixLineRe.FindAllString(r.stderr, -1) {
		if !slices.Contains(daemonFixes, f) {
			daemonFixes = append(daemonFixes, f)
		}
	}
	if len(daemonFixes) < 8 {
		t.Fatalf("the denial lists %d fixes, want every rule web breaks:\n%s", len(daemonFixes), r.stderr)
	}

	// The audit record names project and service; no environment value
	// reaches the log.
	recs := auditAfter[struct {
		Endpoint       string `json:"endpoint"`
		Decision       string `json:"decision"`
		ComposeProject string `json:"compose_project"`
		ComposeService string `json:"compose_service"`
		DecisionID     string `json:"decision_id"`
	}](t, hs.auditLog, offset)
	found := false
	for _, rec := range recs {
		if rec.Endpoint == "container.create" && rec.DecisionID == d.decisionID {
			found = true
			if rec.Decision != "deny" || rec.ComposeProject != "dwc-denied" || rec.ComposeService != "web" {
				t.Errorf("audit record %+v, want a deny of dwc-denied/web", rec)
			}
		}
	}
	if !found {
		t.Fatalf("no audit record of decision %s", d.decisionID)
	}
	logBytes, _ := os.ReadFile(hs.auditLog)
	if bytes.Contains(logBytes[offset:], []byte(p.token)) {
		t.Errorf("the audit log holds the project's environment value")
	}
	out, code := hs.dockwardCmd(t, "audit", "--log", hs.auditLog, "--project", "dwc-denied", "--service", "web")
	t.Logf("dockward audit --project dwc-denied --service web:\n%s", out)
	if code != 0 || !strings.Contains(out, "dwc-denied/web") || !strings.Contains(out, d.decisionID) {
		t.Errorf("dockward audit --project --service: exit %d\n%s", code, out)
	}

	// dockward check said the same: every violation and fix of web.
	web, _, _ := strings.Cut(text[strings.Index(text, "service web"):], "\n  ALLOWED")
	for _, f := range daemonFixes {
		if !strings.Contains(web, f) {
			t.Errorf("check of service web lacks the daemon's %q", f)
		}
	}
	if n := len(fixLineRe.FindAllString(web, -1)); n != len(daemonFixes) {
		t.Errorf("check lists %d violations for web, the daemon %d", n, len(daemonFixes))
	}
	for _, want := range []string{"DENIED   service web (container dwc-denied-web-1, image " + testImage + ", compose.yaml:",
		"DENIED   service db (container dwc-denied-db-1", "[memory_limit] no memory limit is set — fix: set mem_limit: 512m",
		"ALLOWED  network dwc-denied_default", "ALLOWED  volume dwc-denied_data", "2 services: 2 denied, 0 allowed"} {
		if !strings.Contains(text, want) {
			t.Errorf("check output lacks %q", want)
		}
	}
	if strings.Contains(text, p.token) {
		t.Errorf("check printed the project's environment value")
	}

	// SARIF for code scanning: every result of web at web's line.
	sarif, code := hs.composeCheck(t, p, "unix://"+hs.dockerSock, "--format", "sarif")
	if code != 1 {
		t.Fatalf("check --format sarif exit %d, want 1:\n%s", code, sarif)
	}
	var log struct {
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
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sarif), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("not a SARIF 2.1.0 log (%v):\n%s", err, sarif)
	}
	webLine := serviceLine(t, filepath.Join(p.dir, "compose.yaml"), "web")
	run := log.Runs[0]
	webResults := 0
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID || res.Level != "error" || len(res.Locations) != 1 {
			t.Errorf("result %+v: rule index, level or location wrong", res)
			continue
		}
		loc := res.Locations[0].PhysicalLocation
		if strings.HasPrefix(res.Message.Text, "service web:") {
			webResults++
			if loc.ArtifactLocation.URI != "compose.yaml" || loc.Region.StartLine != webLine {
				t.Errorf("web's %s at %s:%d, want compose.yaml:%d", res.RuleID, loc.ArtifactLocation.URI, loc.Region.StartLine, webLine)
			}
		}
	}
	if webResults != len(daemonFixes) {
		t.Errorf("SARIF has %d results for web, the daemon named %d", webResults, len(daemonFixes))
	}
}

// TestComposeUpCompliant: the hardened project passes `dockward check`
// (with the test daemon, and with no daemon at all, as on a CI runner),
// comes up through the plugin with its named volume and loopback port,
// runs, shows in `dockward scan` grouped by project, and `docker compose
// down -v` removes every container, the network and the volume.
func TestComposeUpCompliant(t *testing.T) {
	hs := env(t)
	hs.composeReady(t)
	p := newComposeProject(t, "compliant", "dwc-good")
	t.Cleanup(func() { hs.compose(t, p, "down", "-v") })

	before := hs.daemonObjects(t)
	text, code := hs.composeCheck(t, p, "unix://"+hs.dockerSock)
	if code != 0 || !strings.Contains(text, "ALLOWED  service web") || !strings.Contains(text, "ALLOWED  service worker") ||
		!strings.Contains(text, "2 services: 0 denied, 2 allowed") {
		t.Fatalf("check exit %d, want 0 with both services allowed:\n%s", code, text)
	}
	// A CI runner has no daemon: the project's own network and volume are
	// judged from Compose's creates, and the verdict is the same.
	sarif, code := hs.composeCheck(t, p, "unix:///nonexistent/docker.sock", "--format", "sarif")
	if code != 0 || !strings.Contains(sarif, `"version": "2.1.0"`) || !strings.Contains(sarif, `"results": []`) {
		t.Fatalf("check without a daemon: exit %d, want 0 and no SARIF results:\n%s", code, sarif)
	}
	if after := hs.daemonObjects(t); after != before {
		t.Errorf("check changed the daemon:\nbefore %s\nafter  %s", before, after)
	}

	r := hs.compose(t, p, "up", "-d")
	if r.code != 0 {
		t.Fatalf("docker compose up -d of the hardened project: %v", r)
	}
	ps := hs.mustDocker(t, "ps", "--filter", "label=com.docker.compose.project=dwc-good", "--format", "{{.Names}} {{.State}} {{.Ports}}")
	if !strings.Contains(ps, "dwc-good-web-1 running 127.0.0.1:") || !strings.Contains(ps, "dwc-good-worker-1 running") {
		t.Fatalf("the project's containers are not running:\n%s", ps)
	}
	if ro := strings.TrimSpace(hs.mustDocker(t, "inspect", "--format", "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{range .Mounts}}{{.Type}}:{{.Name}}{{end}}", "dwc-good-web-1")); ro != "true 1000:1000 volume:dwc-good_data" {
		t.Errorf("web runs with %q, want a read-only root, user 1000:1000 and the named volume", ro)
	}

	// scan groups by project: a container of no project apart.
	plain := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create", "--name", "dwc-plain"}, hardened...), testImage, "true")...))
	t.Cleanup(func() { hs.docker(t, "rm", "-f", plain) })
	out, code := hs.dockwardCmd(t, "scan", "--all", "--policy-dir", hs.policyDir, "--docker-host", "unix://"+hs.dockerSock)
	t.Logf("dockward scan --all:\n%s", out)
	if code != 0 && code != 1 { // 1: another test's container breaks the policy
		t.Fatalf("scan exit %d:\n%s", code, out)
	}
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 5 && (strings.HasPrefix(f[0], "dwc-")) {
			names = append(names, f[0]+" "+f[4])
			if f[3] != "allow" {
				t.Errorf("scan: %s", l)
			}
		}
	}
	if strings.Join(names, ", ") != "dwc-plain -, dwc-good-web-1 dwc-good/web, dwc-good-worker-1 dwc-good/worker" {
		t.Errorf("scan rows %v: want the plain container, then dwc-good's by service", names)
	}
	if !strings.Contains(out, "compose project dwc-good: 2 containers, 0 break enforced rules") {
		t.Errorf("scan does not count the project")
	}

	r = hs.compose(t, p, "down", "-v")
	if r.code != 0 {
		t.Fatalf("docker compose down -v: %v", r)
	}
	if left := strings.TrimSpace(hs.mustDocker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project=dwc-good")); left != "" {
		t.Errorf("containers left after down: %s", left)
	}
	for _, args := range [][]string{{"volume", "ls", "-q"}, {"network", "ls", "--format", "{{.Name}}"}} {
		if ls := hs.mustDocker(t, args...); strings.Contains(ls, "dwc-good_") {
			t.Errorf("docker %v after down -v still lists the project's:\n%s", args, ls)
		}
	}
}
