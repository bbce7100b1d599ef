package policy

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// ruleDoc is what a shipped rule's METADATA says of its levels and mappings.
type ruleDoc struct {
	levels   []string
	psa, cis string
}

// libraryRuleDocs reads custom.levels, custom.psa and custom.cis of every
// rule of the shipped library; a rule missing one fails the test.
func libraryRuleDocs(t *testing.T) map[string]ruleDoc {
	t.Helper()
	docs := map[string]ruleDoc{}
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
		pkg := m.Package.Path.String()
		id := pkg[strings.LastIndex(pkg, ".")+1:]
		var doc ruleDoc
		var hasLevels bool
		for _, a := range m.Annotations {
			if a.Scope != "package" || a.Custom == nil {
				continue
			}
			if raw, ok := a.Custom["levels"].([]any); ok {
				hasLevels = true
				for _, l := range raw {
					doc.levels = append(doc.levels, fmt.Sprint(l))
				}
			}
			doc.psa, _ = a.Custom["psa"].(string)
			doc.cis, _ = a.Custom["cis"].(string)
		}
		switch {
		case !hasLevels || len(doc.levels) == 0:
			t.Errorf("%s: rule %s declares no custom.levels (e.g. [baseline, restricted])", p, id)
		case checkLevels(a2any(doc.levels)) != "":
			t.Errorf("%s: rule %s: custom.levels %s", p, id, checkLevels(a2any(doc.levels)))
		}
		if doc.psa == "" {
			t.Errorf("%s: rule %s has no custom.psa (the Pod Security Standards control, or \"none\"; quote it)", p, id)
		}
		if doc.cis == "" {
			t.Errorf("%s: rule %s has no custom.cis (the CIS Docker Benchmark 5.x item, or \"-\"; quote it: 5.10 is not a number)", p, id)
		}
		docs[id] = doc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func a2any(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestRulesDeclareLevels: every shipped rule declares its levels, its PSS
// control and its CIS item; every rule of a level is in each stricter one
// (restricted is baseline plus hardening); the request guards and the
// admin-only doors are in every level.
func TestRulesDeclareLevels(t *testing.T) {
	t.Parallel()
	docs := libraryRuleDocs(t)
	if len(docs) != len(profileRules) {
		t.Errorf("%d rules have METADATA, want %d", len(docs), len(profileRules))
	}
	for id, d := range docs {
		if !reflect.DeepEqual(d.levels, Levels[len(Levels)-len(d.levels):]) {
			t.Errorf("rule %s has levels %v: a rule of a level is in every stricter one, loosest first (one of %v, %v, %v)",
				id, d.levels, Levels, Levels[1:], Levels[2:])
		}
		always := strings.HasPrefix(id, "request_") || strings.HasSuffix(id, "_admin_only")
		if always && len(d.levels) != len(Levels) {
			t.Errorf("rule %s is a request guard or an admin-only door but has levels %v, want every level", id, d.levels)
		}
	}
}

// TestLevelTable checks the table in policies/README.md "## Levels"
// against the rules' METADATA, row for row, as TestWriteRouteTable checks
// the write-route table against the router.
func TestLevelTable(t *testing.T) {
	t.Parallel()
	docs := libraryRuleDocs(t)
	f, err := os.Open(filepath.Join(library, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Levels"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			t.Errorf("row %q: want 4 cells (rule, levels, PSS control, CIS item)", line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		id := strings.Trim(cells[0], "`")
		if _, dup := rows[id]; dup {
			t.Errorf("rule %s has two rows", id)
		}
		rows[id] = cells[1:]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no rows in the Levels table of policies/README.md")
	}
	for id, d := range docs {
		row, ok := rows[id]
		if !ok {
			t.Errorf("rule %s has no row in the Levels table of policies/README.md", id)
			continue
		}
		want := []string{strings.Join(d.levels, ", "), d.psa, d.cis}
		if !reflect.DeepEqual(row, want) {
			t.Errorf("rule %s: the table says %q, its METADATA %q", id, row, want)
		}
	}
	for id := range rows {
		if _, ok := docs[id]; !ok {
			t.Errorf("the Levels table names %s, which is not a rule", id)
		}
	}
}

// TestLoadAtLevel: the level is forced for everyone, whatever data says;
// the request guards and admin doors still hold at privileged.
func TestLoadAtLevel(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"user":    map[string]any{"name": "alice", "authn_method": "TLS", "groups": []any{"ops"}},
		"request": map[string]any{"method": "POST", "path": "/plugins/pull", "api_version": "1.41", "query": map[string]any{}},
		"route":   map[string]any{"endpoint": "plugin.pull", "id": "", "write": true},
		"body":    nil,
	}
	for _, level := range Levels {
		c, err := LoadAtLevel(t.Context(), library, level)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Eval(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Level != level || d.Allow || len(d.Violations) != 1 || d.Violations[0].ID != "plugin_admin_only" {
			t.Errorf("at %s: %+v, want plugin_admin_only denied at %s", level, d, level)
		}
	}
	if _, err := LoadAtLevel(t.Context(), library, "strict"); err == nil || !strings.Contains(err.Error(), `level "strict"`) {
		t.Errorf("unknown level: err = %v", err)
	}
}
