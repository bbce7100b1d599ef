package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// IndexRoot is the data document the plugin puts the rule index in:
// main.rego evaluates only the rules it lists for the request's endpoint.
const IndexRoot = "authz_index"

// ruleIndex says which rule packages can fire on which endpoint, from each
// rule's METADATA custom.endpoints, so a `docker stop` does not visit the
// rules of a container create. A rule that declares no endpoints is in
// always and evaluated on every request: a new rule without the
// declaration is never skipped. lib/result makes a rule fire only on the
// endpoints it declares, so the index never changes a decision.
type ruleIndex struct {
	// Always are [group, rule] pairs evaluated on every request.
	Always [][2]string
	// ByEndpoint maps an endpoint (route name) to the [group, rule] pairs
	// that declare it, followed by Always's.
	ByEndpoint map[string][][2]string
	// Every are the endpoints evaluated over every rule.
	Every map[string]bool
}

// buildIndex reads custom.endpoints from the package METADATA of every
// module under authz.rules. A package spread over several files is in
// always unless every file's package METADATA declares endpoints (then it
// is listed under the union).
func buildIndex(modules map[string]*ast.Module) (ruleIndex, error) {
	type pkg struct {
		endpoints  map[string]bool
		undeclared bool
	}
	pkgs := map[[2]string]*pkg{}
	var problems []string
	for file, m := range modules {
		path := m.Package.Path.String()
		if !strings.HasPrefix(path, RulePrefix) {
			continue
		}
		segs := strings.Split(strings.TrimPrefix(path, RulePrefix), ".")
		if len(segs) != 2 {
			continue // main.rego collects data.authz.rules[_][_].deny only
		}
		key := [2]string{segs[0], segs[1]}
		p := pkgs[key]
		if p == nil {
			p = &pkg{endpoints: map[string]bool{}}
			pkgs[key] = p
		}
		declared := false
		for _, a := range m.Annotations {
			if a.Scope != "package" || a.Custom == nil {
				continue
			}
			raw, ok := a.Custom["endpoints"]
			if !ok {
				continue
			}
			list, ok := raw.([]any)
			if !ok || len(list) == 0 {
				problems = append(problems, fmt.Sprintf("%s: package %s: METADATA custom.endpoints is %v: expected a list of endpoints, e.g. [container.exec]", file, path, raw))
				continue
			}
			for _, e := range list {
				s, ok := e.(string)
				if !ok || s == "" {
					problems = append(problems, fmt.Sprintf("%s: package %s: METADATA custom.endpoints names %v: expected an endpoint name such as container.create", file, path, e))
					continue
				}
				p.endpoints[s] = true
			}
			declared = true
		}
		// The declaration is kept only where lib/result enforces it: a
		// deny rule that builds its violation some other way could fire
		// on an endpoint it does not declare, so its package is always
		// evaluated.
		if !declared || !everyDenyUsesResult(m) {
			p.undeclared = true
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return ruleIndex{}, fmt.Errorf("rule metadata: %s", strings.Join(problems, "; "))
	}
	idx := ruleIndex{ByEndpoint: map[string][][2]string{}}
	for key, p := range pkgs {
		if p.undeclared || len(p.endpoints) == 0 {
			idx.Always = append(idx.Always, key)
			continue
		}
		for e := range p.endpoints {
			idx.ByEndpoint[e] = append(idx.ByEndpoint[e], key)
		}
	}
	// Each endpoint's list holds always's rules too: main.rego makes one
	// lookup, and an endpoint no rule declares gets always. An endpoint
	// more than half the rules can fire on is evaluated over every rule
	// (Every): topdown enumerates data.authz.rules faster than it looks
	// up that many packages one by one.
	idx.Every = map[string]bool{}
	for e := range idx.ByEndpoint {
		idx.ByEndpoint[e] = append(idx.ByEndpoint[e], idx.Always...)
		if 2*len(idx.ByEndpoint[e]) > len(pkgs) {
			idx.Every[e] = true
			delete(idx.ByEndpoint, e)
		}
	}
	less := func(a, b [2]string) int { return strings.Compare(a[0]+"."+a[1], b[0]+"."+b[1]) }
	sortPairs(idx.Always, less)
	for _, v := range idx.ByEndpoint {
		sortPairs(v, less)
	}
	return idx, nil
}

func sortPairs(v [][2]string, less func(a, b [2]string) int) {
	sort.Slice(v, func(i, j int) bool { return less(v[i], v[j]) < 0 })
}

// document is the index as the data main.rego reads.
func (x ruleIndex) document() map[string]any {
	pairs := func(v [][2]string) []any {
		out := make([]any, len(v))
		for i, p := range v {
			out[i] = []any{p[0], p[1]}
		}
		return out
	}
	by := make(map[string]any, len(x.ByEndpoint))
	for e, v := range x.ByEndpoint {
		by[e] = pairs(v)
	}
	every := make(map[string]any, len(x.Every))
	for e := range x.Every {
		every[e] = true
	}
	return map[string]any{"always": pairs(x.Always), "by_endpoint": by, "every": every}
}

// resultViolation is the function whose endpoint check makes a rule's
// custom.endpoints binding.
var resultViolation = ast.MustParseRef("data.authz.lib.result.violation")

// everyDenyUsesResult says whether every deny rule of m calls
// result.violation (through its import of data.authz.lib.result, under any
// alias, or by its full path).
func everyDenyUsesResult(m *ast.Module) bool {
	names := map[string]bool{}
	for _, imp := range m.Imports {
		ref, ok := imp.Path.Value.(ast.Ref)
		if !ok || !ref.Equal(resultViolation[:len(resultViolation)-1]) {
			continue
		}
		name := string(ref[len(ref)-1].Value.(ast.String))
		if imp.Alias != "" {
			name = string(imp.Alias)
		}
		names[name] = true
	}
	calls := func(r *ast.Rule) bool {
		found := false
		ast.WalkExprs(r, func(e *ast.Expr) bool {
			if !e.IsCall() {
				return found
			}
			op := e.Operator()
			if op.Equal(resultViolation) {
				found = true
			}
			if len(op) == 2 {
				if v, ok := op[0].Value.(ast.Var); ok && names[string(v)] && op[1].Value.Compare(ast.String("violation")) == 0 {
					found = true
				}
			}
			return found
		})
		// A call nested in a term (violation := result.violation(...) is
		// an assignment whose right side is the call).
		if !found {
			ast.WalkTerms(r, func(t *ast.Term) bool {
				call, ok := t.Value.(ast.Call)
				if !ok || len(call) == 0 {
					return found
				}
				op, ok := call[0].Value.(ast.Ref)
				if !ok {
					return found
				}
				if op.Equal(resultViolation) {
					found = true
				}
				if len(op) == 2 {
					if v, ok := op[0].Value.(ast.Var); ok && names[string(v)] && op[1].Value.Compare(ast.String("violation")) == 0 {
						found = true
					}
				}
				return found
			})
		}
		return found
	}
	for _, r := range m.Rules {
		if r.Head.Name.String() != "deny" && r.Head.Ref().String() != "deny" {
			continue
		}
		if !calls(r) {
			return false
		}
	}
	return true
}
