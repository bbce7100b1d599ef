package policy

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/internal/testutil"
)

// TestIndexDecidesLikeEveryRule is the differential test of the rule
// index: the plugin's policy (main.rego evaluates only the rules that can
// fire on the endpoint) and the same policy without the index (every rule
// on every request) must return identical decisions — allow, violations,
// dry runs, exemptions and level — for every captured request, every fuzz
// seed, and each of those inputs re-routed to every endpoint a rule
// declares plus endpoints none does, as an anonymous caller and as a named
// one, at every level.
func TestIndexDecidesLikeEveryRule(t *testing.T) {
	ctx := t.Context()
	res, err := loadLibrary(t)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := compileIndexed(ctx, library, res.modules, res.data, true)
	if err != nil {
		t.Fatal(err)
	}
	full, err := compileIndexed(ctx, library, res.modules, res.data, false)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := buildIndex(res.modules)
	if err != nil {
		t.Fatal(err)
	}
	endpoints := map[string]bool{"": true, "container.stop": true, "container.delete": true,
		"container.list": true, "plugin.pull": true, "swarm.init": true, "checkpoint.create": true, "no.such": true}
	for e := range idx.ByEndpoint {
		endpoints[e] = true
	}
	for e := range idx.Every {
		endpoints[e] = true
	}

	inputs := requestInputs(t, ctx)
	if len(inputs) < 40 {
		t.Fatalf("only %d inputs from the corpus and the fuzz seeds", len(inputs))
	}
	var cases, denied, differ int
	for name, base := range inputs {
		for e := range endpoints {
			for _, user := range []map[string]any{
				{"name": "", "authn_method": ""},
				{"name": "alice", "authn_method": "TLS", "groups": []any{"alice", "docker"}},
			} {
				in := clone(t, base)
				route, _ := in["route"].(map[string]any)
				if route == nil {
					route = map[string]any{}
					in["route"] = route
				}
				if e != "" || name == "" {
					route["endpoint"] = e
				}
				in["user"] = user
				want, errFull := full.Eval(ctx, in)
				got, errFast := fast.Eval(ctx, in)
				cases++
				if (errFull == nil) != (errFast == nil) {
					t.Errorf("%s at %q: every rule: %v, indexed: %v", name, e, errFull, errFast)
					continue
				}
				if !want.Allow {
					denied++
				}
				if !reflect.DeepEqual(want, got) {
					differ++
					if differ < 5 {
						t.Errorf("%s at %q as %q:\nevery rule: %+v\nindexed:    %+v", name, e, user["name"], want, got)
					}
				}
			}
		}
	}
	if differ > 0 {
		t.Fatalf("%d of %d decisions differ", differ, cases)
	}
	// The comparison must have seen denials, or it proved nothing.
	if denied < cases/10 {
		t.Fatalf("only %d of %d decisions denied", denied, cases)
	}
	t.Logf("%d decisions identical (%d denied), %d inputs x %d endpoints x 2 callers", cases, denied, len(inputs), len(endpoints))
}

// TestIndexSkipsWhatCannotFire pins what the index is for, and that it
// fails closed: a body-less write visits only the rules that declare no
// endpoint, a rule without the declaration is on every list.
func TestIndexSkipsWhatCannotFire(t *testing.T) {
	res, err := loadLibrary(t)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := buildIndex(res.modules)
	if err != nil {
		t.Fatal(err)
	}
	var always []string
	for _, p := range idx.Always {
		always = append(always, p[1])
	}
	want := []string{"checkpoint_admin_only", "image_mint_admin_only", "owner_only", "plugin_admin_only",
		"request_lookup_failed", "request_unknown_write_route", "swarm_admin_only"}
	if !reflect.DeepEqual(always, want) {
		t.Errorf("always = %v, want %v", always, want)
	}
	if _, ok := idx.ByEndpoint["container.stop"]; ok || idx.Every["container.stop"] {
		t.Errorf("container.stop is indexed: %v", idx.ByEndpoint["container.stop"])
	}
	if !idx.Every["container.create"] {
		t.Errorf("container.create (most rules) should be evaluated over every rule")
	}
	exec := idx.ByEndpoint["container.exec"]
	if len(exec) != 2+len(want) || !reflect.DeepEqual(exec[1:3], [][2]string{{"exec", "exec_no_privileged"}, {"exec", "exec_non_root_user"}}) {
		t.Errorf("container.exec = %v", exec)
	}
	for e, list := range idx.ByEndpoint {
		for _, a := range idx.Always {
			found := false
			for _, p := range list {
				found = found || p == a
			}
			if !found {
				t.Errorf("%s misses %v, which declares no endpoint", e, a)
			}
		}
	}
}

func TestIndexRefusesBadEndpoints(t *testing.T) {
	for name, tc := range map[string]struct{ endpoints, want string }{
		"not a list": {`"container.exec"`, "expected a list of endpoints"},
		"empty":      {`[]`, "expected a list of endpoints"},
		"not a name": {`[1]`, "expected an endpoint name"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "authz", "main.rego"), "package authz\n\ndecision := {\"allow\": true, \"violations\": set(), \"dryrun\": set(), \"exempted\": set(), \"level\": \"restricted\"}\n")
			write(t, filepath.Join(dir, "authz", "rules", "g", "r", "r.rego"), "# METADATA\n# title: T\n# custom:\n#   levels: [restricted]\n#   endpoints: "+tc.endpoints+"\n#   severity: low\n#   fix: F\npackage authz.rules.g.r\n\ndeny contains \"x\" if false\n")
			_, err := Load(t.Context(), dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestIndexRootIsReserved(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "authz", "main.rego"), "package authz\n\ndecision := {\"allow\": true, \"violations\": set(), \"dryrun\": set(), \"exempted\": set(), \"level\": \"restricted\"}\n")
	write(t, filepath.Join(dir, "data.json"), `{"authz_index": {"always": []}}`)
	if _, err := Load(t.Context(), dir); err == nil || !strings.Contains(err.Error(), IndexRoot) {
		t.Fatalf("Load = %v, want an error naming %s", err, IndexRoot)
	}
}

type libraryFiles struct {
	modules map[string]*ast.Module
	data    map[string]any
}

func loadLibrary(t *testing.T) (libraryFiles, error) {
	t.Helper()
	res, err := loader.NewFileLoader().WithProcessAnnotation(true).Filtered([]string{library}, skipNonPolicy)
	if err != nil {
		return libraryFiles{}, err
	}
	return libraryFiles{modules: res.ParsedModules(), data: res.Documents}, nil
}

func clone(t *testing.T, in map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// requestInputs builds the input documents of every request under
// plugin/testdata/requests and every seed of input's fuzz corpus, as the
// plugin does (without daemon lookups).
func requestInputs(t *testing.T, ctx context.Context) map[string]map[string]any {
	t.Helper()
	reqs := testutil.CapturedRequests(t, "../testdata/requests")
	for f, req := range testutil.FuzzSeeds(t, "../input/testdata/fuzz") {
		reqs[f] = req
	}
	out := map[string]map[string]any{}
	names := make([]string, 0, len(reqs))
	for n := range reqs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		in, err := input.Builder{}.Build(ctx, reqs[n])
		if err != nil {
			continue // the plugin denies before Rego runs
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out[n] = m
	}
	return out
}

// A rule declares endpoints only where lib/result enforces them; one
// whose violation is built otherwise, or that declares none, is evaluated
// on every request.
func TestIndexKeepsUnenforcedDeclarationsAlways(t *testing.T) {
	const meta = "# METADATA\n# title: T\n# custom:\n#   levels: [restricted]\n#   endpoints: [container.exec]\n#   severity: low\n#   fix: F\n"
	mods := map[string]string{
		"uses.rego":   meta + "package authz.rules.g.uses\n\nimport data.authz.lib.result\n\ndeny contains v if {\n\tinput.x\n\tv := result.violation(rego.metadata.chain(), \"m\")\n}\n",
		"alias.rego":  meta + "package authz.rules.g.alias\n\nimport data.authz.lib.result as r\n\ndeny contains v if {\n\tinput.x\n\tv := r.violation(rego.metadata.chain(), \"m\")\n}\n",
		"own.rego":    meta + "package authz.rules.g.own\n\ndeny contains {\"id\": \"own\"} if input.x\n",
		"mixed.rego":  meta + "package authz.rules.g.mixed\n\nimport data.authz.lib.result\n\ndeny contains v if {\n\tv := result.violation(rego.metadata.chain(), \"m\")\n}\n\ndeny contains \"raw\" if input.x\n",
		"undecl.rego": "# METADATA\n# title: T\npackage authz.rules.g.undecl\n\ndeny contains \"x\" if input.x\n",
	}
	modules := map[string]*ast.Module{}
	for name, src := range mods {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{ProcessAnnotation: true})
		if err != nil {
			t.Fatal(err)
		}
		modules[name] = m
	}
	idx, err := buildIndex(modules)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"g", "mixed"}, {"g", "own"}, {"g", "undecl"}}
	if !reflect.DeepEqual(idx.Always, want) {
		t.Errorf("always = %v, want %v", idx.Always, want)
	}
}
