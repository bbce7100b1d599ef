package policy

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestComposeFixes: every shipped rule that can deny a create Compose sends
// (container, volume, network) spells its fix for Compose too (custom.fix_compose), so a developer
// denied on `docker compose up` never reads a docker run flag to translate;
// and a fix_compose names only the limits lib/result fills in.
func TestComposeFixes(t *testing.T) {
	n := 0
	err := filepath.WalkDir(filepath.Join(library, "authz/rules"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(p, string(b), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		for _, a := range m.Annotations {
			if a.Scope != "package" || a.Custom == nil {
				continue
			}
			eps, _ := a.Custom["endpoints"].([]any)
			creates := false // what Compose creates: containers, volumes, networks
			for _, e := range eps {
				creates = creates || e == "container.create" || e == "volume.create" || e == "network.create"
			}
			fc, has := a.Custom["fix_compose"].(string)
			switch {
			case creates && !has:
				t.Errorf("%s: fires on a create Compose sends but has no custom.fix_compose (the Compose key that fixes it)", p)
			case has && !creates:
				t.Errorf("%s: has custom.fix_compose but never fires on a create Compose sends, so it is never shown", p)
			case has:
				n++
				rest := fc
				for _, k := range []string{"{max_memory}", "{max_cpus}", "{max_pids}"} {
					rest = strings.ReplaceAll(rest, k, "")
				}
				if strings.Contains(rest, "{max_") {
					t.Errorf("%s: fix_compose names a limit lib/result does not fill in: %q", p, fc)
				}
				if strings.Contains(fc, "--") {
					t.Errorf("%s: fix_compose names a docker run flag: %q", p, fc)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d rules have fix_compose; the walk found the wrong directory?", n)
	}
}
