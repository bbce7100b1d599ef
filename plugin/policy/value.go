package policy

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/dockward/dockward/plugin/decision"
)

// toValue converts the input to an OPA value through its JSON form, so the
// policy sees exactly the documented JSON field names.
func toValue(input any) (ast.Value, error) {
	b, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	return ast.ValueFromReader(bytes.NewReader(b))
}

// parseDecision reads {"allow", "violations", "dryrun", "exempted"}; anything
// else is a broken policy, reported as an error so the request is denied.
func parseDecision(v any) (decision.Decision, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return decision.Decision{}, fmt.Errorf("%s is %T, want an object", Query, v)
	}
	allow, ok := m["allow"].(bool)
	if !ok {
		return decision.Decision{}, fmt.Errorf("%s.allow is %T, want a boolean", Query, m["allow"])
	}
	d := decision.Decision{Allow: allow}
	for key, dst := range map[string]*[]decision.Violation{"violations": &d.Violations, "dryrun": &d.DryRun, "exempted": &d.Exempted} {
		raw, present := m[key]
		if !present {
			continue
		}
		b, err := json.Marshal(raw)
		if err != nil {
			return decision.Decision{}, fmt.Errorf("%s.%s: %w", Query, key, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return decision.Decision{}, fmt.Errorf("%s.%s is not a list of violations: %w", Query, key, err)
		}
	}
	// Never trust allow alone: an enforced violation always denies.
	if len(d.Violations) > 0 {
		d.Allow = false
	}
	return d, nil
}
