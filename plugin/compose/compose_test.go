package compose

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/capture"
	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/input"
)

// denyPrivileged decides like a policy that denies privileged containers.
type denyPrivileged struct{}

func (denyPrivileged) Decide(req authorization.Request) authz.Result {
	if strings.Contains(string(req.RequestBody), `"Privileged":true`) {
		return authz.Result{Decision: decision.Decision{Violations: []decision.Violation{
			{ID: "no_privileged", Title: "No privileged containers", Msg: "container is privileged", Fix: "remove privileged: true", Severity: "critical"}}}}
	}
	if strings.Contains(string(req.RequestBody), "lookup-fails") {
		return authz.Result{Internal: true, Decision: decision.Decision{Violations: []decision.Violation{{ID: "request_lookup_failed", Msg: "m"}}}}
	}
	return authz.Result{Decision: decision.Decision{Allow: true}}
}

func create(name, service, extra string) authorization.Request {
	return authorization.Request{RequestMethod: "POST", RequestURI: "/v1.51/containers/create?name=" + name,
		RequestHeaders: map[string]string{"Content-Type": "application/json"},
		RequestBody: []byte(`{"Image":"busybox","Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"` + service +
			`","com.docker.compose.project.config_files":"/nonexistent/compose.yaml"},"HostConfig":{` + extra + `}}`)}
}

func post(uri, body string) authorization.Request {
	return authorization.Request{RequestMethod: "POST", RequestURI: uri,
		RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: []byte(body)}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	cfg := `{"name":"shop","services":{"web":{"deploy":{"replicas":2}},"db":{},"idle":{"scale":0},"ghost":{}}}`
	tests := []struct {
		name      string
		reqs      []authorization.Request
		allowed   bool
		internal  string // substring of the reason, "" for none
		resources []string
	}{
		{"every service created and allowed but ghost", []authorization.Request{
			post("/v1.51/networks/create", `{"Name":"shop_default","Labels":{"com.docker.compose.network":"default"}}`),
			create("shop-web-1", "web", ""), create("shop-web-2", "web", ""), create("shop-db-1", "db", ""),
		}, true, "compose created no container for service ghost", []string{"network shop_default"}},
		{"one replica denied", []authorization.Request{
			create("shop-web-1", "web", ""), create("shop-web-2", "web", `"Privileged":true`), create("shop-db-1", "db", ""),
			create("shop-ghost-1", "ghost", ""), post("/v1.51/images/create?fromImage=alpine&tag=3", ""),
		}, false, "", []string{"pull alpine:3"}},
		{"a lookup that failed", []authorization.Request{
			create("shop-web-1", "web", `"x":"lookup-fails"`), create("shop-db-1", "db", ""), create("shop-ghost-1", "ghost", ""),
		}, false, "dockward could not establish every fact", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Judge([]byte(cfg), tt.reqs, denyPrivileged{}, []string{"/given/compose.yaml"})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Project != "shop" || strings.Join(rep.Files, ",") != "/nonexistent/compose.yaml" {
				t.Errorf("project %q files %v", rep.Project, rep.Files)
			}
			if got := rep.Allowed(); got != tt.allowed {
				t.Errorf("allowed %v, want %v", got, tt.allowed)
			}
			internal, why := rep.Internal()
			if internal != (tt.internal != "") || !strings.Contains(why, tt.internal) {
				t.Errorf("internal %v %q, want %q", internal, why, tt.internal)
			}
			var names []string
			for _, s := range rep.Services {
				names = append(names, s.Name)
			}
			if strings.Join(names, ",") != "db,ghost,idle,web" {
				t.Errorf("services %v", names)
			}
			web := rep.Services[3]
			if len(tt.reqs) > 3 && strings.Join(web.ContainerNames(), ",") != "shop-web-1,shop-web-2" {
				t.Errorf("web's containers %v", web.ContainerNames())
			}
			if !rep.Services[2].NoContainers || len(rep.Services[2].Containers) != 0 {
				t.Errorf("idle (scale 0) %+v", rep.Services[2])
			}
			var res []string
			for _, o := range rep.Resources {
				res = append(res, o.Kind+" "+o.Name)
			}
			if strings.Join(res, ",") != strings.Join(tt.resources, ",") {
				t.Errorf("resources %v, want %v", res, tt.resources)
			}
		})
	}
	hooked, err := Judge([]byte(`{"name":"shop","services":{"web":{"post_start":[{"command":"id"}]}}}`),
		[]authorization.Request{create("shop-web-1", "web", "")}, denyPrivileged{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if internal, why := hooked.Internal(); !internal || !strings.Contains(why, "post_start or pre_stop hooks") {
		t.Errorf("a service with a post_start hook: internal %v %q, want it unjudged (exit 2)", internal, why)
	}
	if _, err := Judge([]byte("not json"), nil, denyPrivileged{}, nil); err == nil {
		t.Error("a config that is not JSON was accepted")
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := filepath.Join(dir, "compose.yaml")
	over := filepath.Join(dir, "compose.override.yaml")
	os.WriteFile(base, []byte("# c\nservices:\n  web:\n    image: x\n  db:\n    image: y\nvolumes:\n  data: {}\n"), 0o644)
	os.WriteFile(over, []byte("services:\n  web:\n    privileged: true\n  extra:\n    image: z\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("services: [\n"), 0o644)
	files := []string{filepath.Join(dir, "bad.yaml"), filepath.Join(dir, "missing.yaml"), base, over}
	tests := []struct {
		section, key string
		file         string
		line         int
	}{
		{"services", "web", base, 3}, // the first file that has it: where it is defined
		{"services", "db", base, 5},
		{"services", "extra", over, 4},
		{"volumes", "data", base, 8},
		{"services", "nowhere", files[0], 0},
		{"networks", "default", files[0], 0},
	}
	for _, tt := range tests {
		f, l := Locate(files, tt.section, tt.key)
		if f != tt.file || l != tt.line {
			t.Errorf("Locate %s.%s = %s:%d, want %s:%d", tt.section, tt.key, f, l, tt.file, tt.line)
		}
	}
	if f, l := Locate(nil, "services", "web"); f != "" || l != 0 {
		t.Errorf("no files: %s:%d", f, l)
	}
}

func TestSARIF(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	os.WriteFile(file, []byte("services:\n  web:\n    image: x\n"), 0o644)
	web := create("shop-web-1", "web", `"Privileged":true`)
	web.RequestBody = []byte(strings.Replace(string(web.RequestBody), "/nonexistent/compose.yaml", file, 1))
	rep, err := Judge([]byte(`{"name":"shop","services":{"web":{}}}`), []authorization.Request{web}, denyPrivileged{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep.Services[0].Containers[0].Result.Decision.DryRun = []decision.Violation{{ID: "pids_limit", Msg: "no pids limit", Fix: "set pids_limit: 256"}}
	b, _ := json.Marshal(rep.SARIF(dir, "v1"))
	var log sarifLog
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if log.Version != "2.1.0" || run.Tool.Driver.Version != "v1" || len(run.Tool.Driver.Rules) != 2 || len(run.Results) != 2 {
		t.Fatalf("SARIF %s", b)
	}
	r := run.Results[0]
	loc := r.Locations[0].PhysicalLocation
	if r.RuleID != "no_privileged" || r.Level != "error" || loc.ArtifactLocation.URI != "compose.yaml" || loc.Region.StartLine != 2 ||
		r.Message.Text != "service web: container is privileged — fix: remove privileged: true" {
		t.Errorf("result %s", b)
	}
	if rule := run.Tool.Driver.Rules[0]; rule.ShortDescription.Text != "No privileged containers" || rule.Help.Text != "remove privileged: true" {
		t.Errorf("rule %+v", rule)
	}
	if run.Results[1].Level != "warning" || run.Results[1].RuleIndex != 1 {
		t.Errorf("a dry-run violation is %+v, want a warning", run.Results[1])
	}
	// Outside the base directory: an absolute file URI.
	if got := fileURI(RelPath("/elsewhere", file)); !strings.HasPrefix(got, "file:///") {
		t.Errorf("URI %s", got)
	}
}

// fixedLookup answers nothing but errors: the daemon is not there.
type fixedLookup struct{ input.Lookup }

func (fixedLookup) Container(context.Context, string) (input.ContainerInfo, error) {
	return input.ContainerInfo{}, context.DeadlineExceeded
}

func (fixedLookup) Network(context.Context, string) (input.NetworkInfo, error) {
	return input.NetworkInfo{}, context.DeadlineExceeded
}

func (fixedLookup) Volume(context.Context, string) (string, map[string]string, error) {
	return "", nil, context.DeadlineExceeded
}

func TestSessionLookup(t *testing.T) {
	t.Parallel()
	l := SessionLookup(fixedLookup{}, []authorization.Request{
		post("/v1.51/networks/create", `{"Name":"shop_default","Options":{"com.docker.network.bridge.gateway_mode_ipv4":"routed"}}`),
		post("/v1.51/volumes/create", `{"Name":"shop_data","DriverOpts":{"o":"bind","device":"/srv"}}`),
		post("/v1.51/volumes/create", `not json`),
		create("shop-web-1", "web", `"ReadonlyRootfs":true`),
		create("shop-stray-1", "stray", ""), // a create the capture never answered: unknown here
	}, []capture.Created{{ID: "0123456789abcdef", Name: "shop-web-1"}})
	n, err := l.Network(t.Context(), "shop_default")
	if err != nil || n.Driver != "bridge" || n.Options["com.docker.network.bridge.gateway_mode_ipv4"] != "routed" {
		t.Errorf("network %+v %v: the project's create, with the daemon's default driver", n, err)
	}
	d, opts, err := l.Volume(t.Context(), "shop_data")
	if err != nil || d != "local" || opts["device"] != "/srv" {
		t.Errorf("volume %s %v %v", d, opts, err)
	}
	for _, ref := range []string{"0123456789abcdef", "shop-web-1"} {
		c, err := l.Container(t.Context(), ref)
		if err != nil || c.ID != "0123456789abcdef" || c.Name != "shop-web-1" || !c.HostConfig.ReadonlyRootfs || c.Config.Image != "busybox" {
			t.Errorf("container %s: %+v %v, want web's create", ref, c, err)
		}
	}
	if _, err := l.Container(t.Context(), "shop-stray-1"); err == nil {
		t.Error("a container the capture did not create was not asked of the daemon")
	}
	if _, err := l.Network(t.Context(), "external"); err == nil {
		t.Error("a network the project does not create was not asked of the daemon")
	}
	if _, _, err := l.Volume(t.Context(), "other"); err == nil {
		t.Error("a volume the project does not create was not asked of the daemon")
	}
}
