package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/scan"
)

// TestScanGroupsByProject: a project's containers read together, service by
// service, after those of no project, and each project is counted.
func TestScanGroupsByProject(t *testing.T) {
	t.Parallel()
	f := func(name, project, service string, allow bool) scan.Finding {
		d := decision.Decision{Allow: allow, ComposeProject: project, ComposeService: service, Level: "restricted"}
		if !allow {
			d.Violations = []decision.Violation{{ID: "read_only_rootfs", Msg: "root filesystem is writable", Fix: "set read_only: true on the service"}}
		}
		return scan.Finding{Name: name, Image: "busybox", State: "running", Result: authz.Result{Decision: d}}
	}
	findings := []scan.Finding{ // scan.Run's order: by name
		f("a-shop-web-1", "shop", "web", false), f("b-blog-db-1", "blog", "db", true),
		f("c-plain", "", "", true), f("d-shop-db-1", "shop", "db", true),
	}
	var out bytes.Buffer
	printScan(&out, findings, "rev")
	text := out.String()
	var rows []string
	for _, l := range strings.Split(text, "\n")[1:5] {
		fields := strings.Fields(l)
		rows = append(rows, fields[0]+" "+fields[4])
	}
	if got := strings.Join(rows, ", "); got != "c-plain -, b-blog-db-1 blog/db, d-shop-db-1 shop/db, a-shop-web-1 shop/web" {
		t.Errorf("rows %s:\n%s", got, text)
	}
	for _, want := range []string{"compose project blog: 1 containers, 0 break enforced rules", "compose project shop: 2 containers, 1 break enforced rules",
		"a-shop-web-1 (busybox, compose service web of project shop):\n  [read_only_rootfs] root filesystem is writable — fix: set read_only: true on the service"} {
		if !strings.Contains(text, want) {
			t.Errorf("scan output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := printScanJSON(&out, findings); err != nil {
		t.Fatal(err)
	}
	var js []struct {
		Name    string `json:"name"`
		Project string `json:"compose_project"`
		Service string `json:"compose_service"`
	}
	if err := json.Unmarshal(out.Bytes(), &js); err != nil || len(js) != 4 || js[3].Name != "a-shop-web-1" || js[3].Project != "shop" || js[3].Service != "web" {
		t.Errorf("scan --json %s", out.String())
	}
}
