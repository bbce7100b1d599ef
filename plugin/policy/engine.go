// Package policy compiles the Rego policy directory into a prepared query and
// evaluates it. It is the only package that compiles or evaluates Rego (fleet
// uses OPA only to fetch bundles and ship decision logs). A compiled policy is
// immutable; reloads build a new one and swap it in atomically, so every
// evaluation sees one whole policy, old or new.
package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/dockward/dockward/plugin/decision"
)

// Query is the policy entrypoint every evaluation asks for.
const Query = "data.authz.decision"

// RulePrefix is the package path every rule lives under.
const RulePrefix = "data.authz.rules."

// Where a compiled policy came from.
const (
	SourceLocal  = "local"  // the policy directory
	SourceBundle = "bundle" // OPA bundles from a bundle server
	SourceNone   = "none"   // nothing yet: every request is denied (Unavailable)
)

// Compiled is one loaded, compiled and prepared policy set.
type Compiled struct {
	Dir      string
	Source   string // SourceLocal, SourceBundle or SourceNone
	Revision string // sha256 over the files' names and contents (bundles: name@revision/sha256)
	Rules    []string
	// Bundles maps each bundle name to its manifest revision (SourceBundle).
	Bundles map[string]string
	query   rego.PreparedEvalQuery
	// unavailable, when set, denies every request with this reason: no
	// policy is in force yet and the operator chose not to fall back to
	// the local one.
	unavailable string
}

// Load reads every .rego file (tests excluded) and data file under dir,
// compiles them in strict mode and prepares the decision query. It fails on
// an empty directory, a compile error, a rule without its METADATA, or a
// policy that does not define the decision.
func Load(ctx context.Context, dir string) (*Compiled, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("policy directory: %w", err)
	}
	res, err := loader.NewFileLoader().WithProcessAnnotation(true).Filtered([]string{dir}, skipNonPolicy)
	if err != nil {
		return nil, fmt.Errorf("load policies from %s: %w", dir, err)
	}
	if len(res.Modules) == 0 {
		return nil, fmt.Errorf("no .rego policy files in %s", dir)
	}
	revision, err := revisionOf(dir)
	if err != nil {
		return nil, err
	}
	c, err := Compile(ctx, dir, res.ParsedModules(), res.Documents)
	if err != nil {
		return nil, err
	}
	c.Dir, c.Source, c.Revision = dir, SourceLocal, revision
	return c, nil
}

// LoadAtLevel is Load with every caller judged at level, whatever data.json
// assigns: `dockward check --level` and `scan --level` ask what a level
// would refuse. The revision is the directory's.
func LoadAtLevel(ctx context.Context, dir, level string) (*Compiled, error) {
	if !knownLevel(level) {
		return nil, fmt.Errorf("level %q: expected one of %s", level, strings.Join(Levels, ", "))
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("policy directory: %w", err)
	}
	res, err := loader.NewFileLoader().WithProcessAnnotation(true).Filtered([]string{dir}, skipNonPolicy)
	if err != nil {
		return nil, fmt.Errorf("load policies from %s: %w", dir, err)
	}
	revision, err := revisionOf(dir)
	if err != nil {
		return nil, err
	}
	data := res.Documents
	if data == nil {
		data = map[string]any{}
	}
	cfg, _ := data["authz_config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
		data["authz_config"] = cfg
	}
	cfg["levels"] = map[string]any{"default": level}
	c, err := Compile(ctx, dir, res.ParsedModules(), data)
	if err != nil {
		return nil, err
	}
	c.Dir, c.Source, c.Revision = dir, SourceLocal, revision
	return c, nil
}

// Compile is the one strict path every policy takes, from the directory or
// from a bundle: data.json validation, a strict compile, the rule METADATA
// contract and the decision entrypoint. origin names the source in errors.
// The caller sets Source and Revision.
func Compile(ctx context.Context, origin string, modules map[string]*ast.Module, data map[string]any) (*Compiled, error) {
	return compileIndexed(ctx, origin, modules, data, true)
}

// compileIndexed is Compile; without indexed, main.rego evaluates every rule on
// every request (the differential test's reference).
func compileIndexed(ctx context.Context, origin string, modules map[string]*ast.Module, data map[string]any, indexed bool) (*Compiled, error) {
	if len(modules) == 0 {
		return nil, fmt.Errorf("no .rego policy files in %s", origin)
	}
	if err := validateConfig(data, modules); err != nil {
		return nil, err
	}
	if _, ok := data[IndexRoot]; ok {
		return nil, fmt.Errorf("data in %s defines %s: that document is the plugin's own (the rule index it builds from METADATA custom.endpoints); rename it", origin, IndexRoot)
	}
	idx, err := buildIndex(modules)
	if err != nil {
		return nil, err
	}
	store := data
	if indexed {
		// A shallow copy: the caller's data stays as it was.
		store = make(map[string]any, len(data)+1)
		for k, v := range data {
			store[k] = v
		}
		store[IndexRoot] = idx.document()
	}
	opts := []func(*rego.Rego){
		rego.Query(Query),
		rego.Store(inmem.NewFromObject(store)),
		rego.Strict(true),
		rego.StrictBuiltinErrors(true), // a builtin error is an error, hence a deny
	}
	paths := make([]string, 0, len(modules))
	for p := range modules {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		opts = append(opts, rego.ParsedModule(modules[p]))
	}
	r := rego.New(opts...)
	pq, err := r.PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compile policies in %s: %w", origin, err)
	}
	rules, err := checkRules(modules)
	if err != nil {
		return nil, err
	}
	if !definesDecision(modules) {
		return nil, fmt.Errorf("no policy in %s defines %s (package authz, rule decision): every request would be denied", origin, Query)
	}
	return &Compiled{Rules: rules, query: pq}, nil
}

// Unavailable is the policy in force while there is none: it denies every
// request with reason. It is never a fallback to allowing.
func Unavailable(reason string) *Compiled {
	return &Compiled{Source: SourceNone, Revision: "none", unavailable: reason}
}

// skipNonPolicy keeps .rego and data files, dropping tests (they belong to
// `go test` and `dockward policy test`, not to the running plugin) and
// anything that is not policy, such as README.md.
func skipNonPolicy(abspath string, info fs.FileInfo, _ int) bool {
	if info.IsDir() {
		return strings.HasPrefix(info.Name(), ".") && info.Name() != "."
	}
	name := info.Name()
	switch {
	case strings.HasSuffix(name, "_test.rego"):
		return true
	case strings.HasSuffix(name, ".rego"), name == "data.json", name == "data.yaml", name == "data.yml":
		return false
	}
	return true
}

// revisionOf hashes the names and contents of the files that make up the
// policy, so the audit log can say which policy decided.
func revisionOf(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if skipNonPolicy(p, info, 0) || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash policies: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Levels are the levels a rule may belong to and data may assign, loosest
// first: the Pod Security Standards' names. privileged enforces only the
// rules every level has (request guards, admin-only doors).
var Levels = []string{"privileged", "baseline", "restricted"}

func knownLevel(l string) bool {
	for _, k := range Levels {
		if l == k {
			return true
		}
	}
	return false
}

// checkRules enforces the rule contract: every package under authz.rules
// carries title, custom.fix and custom.severity in its METADATA, so every
// denial can tell the developer what to do, and custom.levels, the levels
// it is enforced at (a rule that forgot them would be enforced at every
// level by lib/result, which is safe but surely not what its author meant).
func checkRules(modules map[string]*ast.Module) ([]string, error) {
	var ids []string
	var problems []string
	for file, m := range modules {
		pkg := m.Package.Path.String()
		if !strings.HasPrefix(pkg, RulePrefix) {
			continue
		}
		var title, fix, severity, levels bool
		for _, a := range m.Annotations {
			if a.Scope != "package" {
				continue
			}
			title = title || a.Title != ""
			if a.Custom != nil {
				_, fix = a.Custom["fix"]
				_, severity = a.Custom["severity"]
				var raw any
				raw, levels = a.Custom["levels"]
				if levels {
					if p := checkLevels(raw); p != "" {
						problems = append(problems, fmt.Sprintf("%s: package %s: METADATA custom.levels %s", file, pkg, p))
					}
				}
			}
		}
		var missing []string
		for name, ok := range map[string]bool{"title": title, "custom.fix": fix, "custom.severity": severity, "custom.levels": levels} {
			if !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			problems = append(problems, fmt.Sprintf("%s: package %s lacks METADATA %s", file, pkg, strings.Join(missing, ", ")))
		}
		ids = append(ids, pkg[strings.LastIndex(pkg, ".")+1:])
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, errors.New("rule metadata: " + strings.Join(problems, "; "))
	}
	sort.Strings(ids)
	return ids, nil
}

// checkLevels says what is wrong with a rule's custom.levels, or "".
func checkLevels(raw any) string {
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return fmt.Sprintf("is %v: expected a list of levels, e.g. [baseline, restricted] (known: %s)", raw, strings.Join(Levels, ", "))
	}
	for _, e := range list {
		if l, ok := e.(string); !ok || !knownLevel(l) {
			return fmt.Sprintf("names %v: expected one of %s", e, strings.Join(Levels, ", "))
		}
	}
	return ""
}

func definesDecision(modules map[string]*ast.Module) bool {
	for _, m := range modules {
		if m.Package.Path.String() != "data.authz" {
			continue
		}
		for _, r := range m.Rules {
			if r.Head.Name.String() == "decision" || r.Head.Ref().String() == "decision" {
				return true
			}
		}
	}
	return false
}

// Eval evaluates the decision for one input. An undefined decision or a
// malformed one is an error; the caller denies.
func (c *Compiled) Eval(ctx context.Context, input any) (decision.Decision, error) {
	if c.unavailable != "" {
		return decision.Deny(c.unavailable), nil
	}
	v, err := toValue(input)
	if err != nil {
		return decision.Decision{}, fmt.Errorf("convert input: %w", err)
	}
	rs, err := c.query.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return decision.Decision{}, fmt.Errorf("evaluate policy: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return decision.Decision{}, fmt.Errorf("policy left %s undefined", Query)
	}
	d, err := parseDecision(rs[0].Expressions[0].Value)
	if err != nil {
		return decision.Decision{}, err
	}
	d.Sort()
	return d, nil
}

// Engine holds the current policy and swaps it on reload.
type Engine struct {
	current atomic.Pointer[Compiled]
}

// NewEngine returns an engine serving c.
func NewEngine(c *Compiled) *Engine {
	e := &Engine{}
	e.current.Store(c)
	return e
}

// Current returns the policy in force.
func (e *Engine) Current() *Compiled { return e.current.Load() }

// Swap puts c in force.
func (e *Engine) Swap(c *Compiled) { e.current.Store(c) }

// CompareAndSwap puts c in force only if old still is: a reload that raced
// with another source (a bundle activation) does not overwrite it.
func (e *Engine) CompareAndSwap(old, c *Compiled) bool { return e.current.CompareAndSwap(old, c) }
