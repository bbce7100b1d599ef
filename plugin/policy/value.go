package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/dockward/dockward/plugin/decision"
)

// toValue converts the input to an OPA value directly, following the json
// struct tags, so the policy sees exactly the documented JSON field names.
// It replaces a JSON encode + parse round trip that cost about a third of a
// GET decision (plugin/BENCHMARKS.md).
func toValue(input any) (ast.Value, error) {
	t, err := toTerm(reflect.ValueOf(input))
	if err != nil {
		return nil, err
	}
	return t.Value, nil
}

var nullTerm = ast.NullTerm()

// jsonValuer is a value that computes its plain JSON form when first read
// (input.LazyBody): the conversion asks for it only when it converts.
type jsonValuer interface{ JSONValue() (any, error) }

func toTerm(v reflect.Value) (*ast.Term, error) {
	if !v.IsValid() {
		return nullTerm, nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nullTerm, nil
		}
		if lv, ok := v.Interface().(jsonValuer); ok {
			// A body computed on first use (input.LazyBody).
			x, err := lv.JSONValue()
			if err != nil {
				return nil, err
			}
			return toTerm(reflect.ValueOf(x))
		}
		return toTerm(v.Elem())
	case reflect.String:
		if v.Type() == numberType {
			return ast.NumberTerm(json.Number(v.String())), nil
		}
		return ast.StringTerm(v.String()), nil
	case reflect.Bool:
		return ast.BooleanTerm(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ast.IntNumberTerm(int(v.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ast.UIntNumberTerm(v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return ast.NumberTerm(json.Number(formatFloat(v.Float()))), nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nullTerm, nil
		}
		terms := make([]*ast.Term, v.Len())
		for i := range terms {
			t, err := toTerm(v.Index(i))
			if err != nil {
				return nil, err
			}
			terms[i] = t
		}
		return ast.ArrayTerm(terms...), nil
	case reflect.Map:
		if v.IsNil() {
			return nullTerm, nil
		}
		if v.Type() == jsonObjectType {
			// A request body as plain JSON (bodies hold only JSON
			// types, numbers as json.Number). Converted lazily: OPA
			// realizes only the keys a rule reads, and most rules read
			// the typed views, never the body. That is a third of a
			// container create's conversion (plugin/BENCHMARKS.md).
			return ast.NewTerm(ast.LazyObject(v.Interface().(map[string]any))), nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key type %s", v.Type().Key())
		}
		pairs := make([][2]*ast.Term, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			t, err := toTerm(it.Value())
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, [2]*ast.Term{ast.StringTerm(it.Key().String()), t})
		}
		return ast.ObjectTerm(pairs...), nil
	case reflect.Struct:
		fields := structFields(v.Type())
		pairs := make([][2]*ast.Term, 0, len(fields))
		for _, f := range fields {
			fv := v.Field(f.index)
			if f.omitEmpty && isEmptyValue(fv) {
				continue
			}
			t, err := toTerm(fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			pairs = append(pairs, [2]*ast.Term{ast.StringTerm(f.name), t})
		}
		return ast.ObjectTerm(pairs...), nil
	}
	return nil, fmt.Errorf("cannot convert %s to a policy value", v.Type())
}

// isEmptyValue is encoding/json's omitempty test (not reflect's IsZero: an
// empty non-nil list is omitted, a struct never is), so the policy sees
// exactly the input's JSON: what policy tests and `opa eval` are given, and
// what the decision cache keys a decision by (plugin/authz).
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

var (
	numberType     = reflect.TypeOf(json.Number(""))
	jsonObjectType = reflect.TypeOf(map[string]any(nil))
)

// formatFloat writes a float as encoding/json does, so numbers read the
// same in messages ("134217728", not "1.34217728e+08").
func formatFloat(f float64) string {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

type field struct {
	name      string
	index     int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []field

// structFields lists the exported fields of t with their JSON names. Input
// types have no embedded structs (a test checks conversion against
// encoding/json), so embedding is not flattened here.
func structFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var fields []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields = append(fields, field{name: name, index: i, omitEmpty: strings.Contains(opts, "omitempty")})
	}
	fieldCache.Store(t, fields)
	return fields
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
	var err error
	if d.Violations, err = violations(m, "violations"); err != nil {
		return decision.Decision{}, err
	}
	if d.DryRun, err = violations(m, "dryrun"); err != nil {
		return decision.Decision{}, err
	}
	if d.Exempted, err = violations(m, "exempted"); err != nil {
		return decision.Decision{}, err
	}
	if lv, present := m["level"]; present {
		if d.Level, ok = lv.(string); !ok {
			return decision.Decision{}, fmt.Errorf("%s.level is %T, want a string", Query, lv)
		}
	}
	// Never trust allow alone: an enforced violation always denies.
	if len(d.Violations) > 0 {
		d.Allow = false
	}
	return d, nil
}

func violations(m map[string]any, key string) ([]decision.Violation, error) {
	raw, present := m[key]
	if !present {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s.%s is %T, want a list of violations", Query, key, raw)
	}
	out := make([]decision.Violation, 0, len(list))
	for _, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.%s holds %T, want an object", Query, key, e)
		}
		id, _ := o["id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s.%s holds a violation without an id", Query, key)
		}
		str := func(k string) string { s, _ := o[k].(string); return s }
		out = append(out, decision.Violation{ID: id, Title: str("title"), Msg: str("msg"), Fix: str("fix"),
			Severity: str("severity"), Exemption: str("exemption")})
	}
	return out, nil
}
