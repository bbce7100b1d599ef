package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// ParamsPackage declares every parameter, its default and its type.
const ParamsPackage = "data.authz.lib.params"

// Parameter types a params package may declare in its types object.
const (
	TypePositiveInteger = "positive integer"
	TypePositiveNumber  = "positive number"
	TypeBoolean         = "boolean"
	TypeStrings         = "list of strings"
	// TypeIntegerMap is an object of names to positive integers (a
	// maximum per name, as allowed_ulimits has).
	TypeIntegerMap = "object of positive integers"
)

// validateConfig checks data.authz_config when it is loaded, so that a typo
// in data.json is a load error with a clear message (and a reload keeps the
// last good policy) instead of an evaluation error on every request, or a
// setting that silently does nothing: a parameter of the wrong type (Rego
// compares a number with "4g" by type order, so such a limit never fires),
// a parameter no rule reads, a mode for a rule that does not exist or for a
// request_* guard (fail-closed guards are never put in dryrun).
func validateConfig(docs map[string]any, modules map[string]*ast.Module) error {
	types, err := paramTypes(modules)
	if err != nil {
		return err
	}
	raw, ok := docs["authz_config"]
	if !ok {
		return nil // every parameter has a default in lib/params
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	var cfg struct {
		Params      map[string]json.RawMessage `json:"params"`
		Modes       map[string]string          `json:"modes"`
		ExemptUsers json.RawMessage            `json:"exempt_users"`
		Admins      json.RawMessage            `json:"admins"`
		Exemptions  []json.RawMessage          `json:"exemptions"`
		Levels      json.RawMessage            `json:"levels"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("authz_config: %w", err)
	}
	var problems []string
	problems = append(problems, checkPrincipals("admins", cfg.Admins)...)
	problems = append(problems, checkPrincipals("exempt_users", cfg.ExemptUsers)...)
	problems = append(problems, checkLevelsData(cfg.Levels)...)
	exemptions := make([]exemption, len(cfg.Exemptions))
	for i, raw := range cfg.Exemptions {
		if err := decodeStrict(raw, &exemptions[i]); err != nil {
			problems = append(problems, fmt.Sprintf("exemptions[%d]: %v (an exemption has users, groups, images, rules, reason and expires)", i, err))
		}
	}
	for _, name := range sortedKeys(cfg.Params) {
		if p := checkParam(name, cfg.Params[name], types); p != "" {
			problems = append(problems, p)
		}
	}
	rules := map[string]bool{}
	for _, id := range ruleIDs(modules) {
		rules[id] = true
	}
	for _, id := range sortedKeys(cfg.Modes) {
		mode := cfg.Modes[id]
		switch {
		case strings.HasPrefix(id, "request_"):
			problems = append(problems, fmt.Sprintf("modes.%s: request_* guards are always enforced (a request the plugin cannot read as the daemon does is never let through)", id))
		case mode != "enforce" && mode != "dryrun":
			problems = append(problems, fmt.Sprintf("modes.%s is %q: expected \"enforce\" or \"dryrun\"", id, mode))
		case !rules[id]:
			problems = append(problems, fmt.Sprintf("modes.%s: no rule has this id (a typo would leave the rule enforced)", id))
		}
	}
	// OPA's time builtins work in int64 nanoseconds: years 1678 to 2262.
	latest := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range exemptions {
		if e.Reason == "" {
			problems = append(problems, fmt.Sprintf("exemptions[%d] has no reason: say why, it is written to the audit log", i))
		}
		if e.Expires != "" {
			t, err := time.Parse(time.RFC3339, e.Expires)
			if err != nil || t.After(latest) {
				problems = append(problems, fmt.Sprintf("exemptions[%d].expires %q: expected an RFC 3339 time before 2262, e.g. 2026-12-31T23:59:59Z", i, e.Expires))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New("data.json authz_config: " + strings.Join(problems, "; "))
	}
	return nil
}

// exemption is one entry of authz_config.exemptions. Users and Groups say
// who it is for (either matching is enough; with neither, everyone); Images
// and Rules what it waives.
type exemption struct {
	Users   []string `json:"users"`
	Groups  []string `json:"groups"`
	Images  []string `json:"images"`
	Rules   []string `json:"rules"`
	Reason  string   `json:"reason"`
	Expires string   `json:"expires"`
}

// decodeStrict decodes one object, refusing keys v has no field for: a
// misspelt "user" in an exemption would otherwise make it one for everyone.
// Keys are matched exactly, unlike encoding/json's default, since Rego
// reads them exactly ("Users" is not "users" there).
func decodeStrict(raw json.RawMessage, v any) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return err
	}
	known := map[string]bool{}
	t := reflect.TypeOf(v).Elem()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		known[name] = true
	}
	for _, k := range sortedKeys(keys) {
		if !known[k] {
			return fmt.Errorf("unknown key %q", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// checkPrincipals checks admins or exempt_users: a list of user names (the
// original form) or {"users": [...], "groups": [...]}.
func checkPrincipals(key string, raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var names []string
	var err error
	if raw[0] != '{' {
		if err = json.Unmarshal(raw, &names); err != nil {
			return []string{fmt.Sprintf("%s is %s: expected a list of user names or {\"users\": [...], \"groups\": [...]}", key, raw)}
		}
		return checkNames(key, names)
	}
	var p struct {
		Users  []string `json:"users"`
		Groups []string `json:"groups"`
	}
	if err = decodeStrict(raw, &p); err != nil {
		return []string{fmt.Sprintf("%s: %v: expected a list of user names or {\"users\": [...], \"groups\": [...]}", key, err)}
	}
	return append(checkNames(key+".users", p.Users), checkNames(key+".groups", p.Groups)...)
}

// checkNames refuses empty names: "" is the caller the daemon names no one
// (the unix socket), which is never an admin nor exempt.
func checkNames(key string, names []string) []string {
	for i, n := range names {
		if n == "" {
			return []string{fmt.Sprintf("%s[%d] is empty: the unnamed caller (the unix socket without identity) is never %s", key, i, strings.SplitN(key, ".", 2)[0])}
		}
	}
	return nil
}

// checkLevelsData checks authz_config.levels: {"default": LEVEL,
// "groups": {NAME: LEVEL}, "users": {NAME: LEVEL}}, every LEVEL one of
// Levels. A typo in a level name would otherwise judge at restricted, or
// at nothing.
func checkLevelsData(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var lv struct {
		Default *string           `json:"default"`
		Groups  map[string]string `json:"groups"`
		Users   map[string]string `json:"users"`
	}
	if err := decodeStrict(raw, &lv); err != nil {
		return []string{fmt.Sprintf(`levels: %v: expected {"default": "restricted", "groups": {"ci": "baseline"}, "users": {"alice": "baseline"}}`, err)}
	}
	known := strings.Join(Levels, ", ")
	var problems []string
	if lv.Default != nil && !knownLevel(*lv.Default) {
		problems = append(problems, fmt.Sprintf("levels.default is %q: expected one of %s", *lv.Default, known))
	}
	for _, kind := range []string{"groups", "users"} {
		m := lv.Groups
		if kind == "users" {
			m = lv.Users
		}
		for _, name := range sortedKeys(m) {
			switch {
			case name == "":
				problems = append(problems, fmt.Sprintf("levels.%s has an empty name: the unnamed caller gets levels.default", kind))
			case !knownLevel(m[name]):
				problems = append(problems, fmt.Sprintf("levels.%s.%s is %q: expected one of %s", kind, name, m[name], known))
			}
		}
	}
	return problems
}

// checkParam returns what is wrong with one parameter's value, or "".
func checkParam(name string, raw json.RawMessage, types map[string]string) string {
	typ, ok := types[name]
	if !ok {
		known := sortedKeys(types)
		return fmt.Sprintf("params.%s: unknown parameter (known: %s)", name, strings.Join(known, ", "))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Sprintf("params.%s: %v", name, err)
	}
	if !hasType(v, typ) {
		return fmt.Sprintf("params.%s is %s: expected %s", name, raw, article(typ))
	}
	return ""
}

func hasType(v any, typ string) bool {
	switch typ {
	case TypePositiveInteger, TypePositiveNumber:
		n, ok := v.(json.Number)
		if !ok {
			return false // "4g", "4294967296", null: Rego never compares them as numbers
		}
		r, ok := new(big.Rat).SetString(string(n))
		return ok && r.Sign() > 0 && (typ == TypePositiveNumber || r.IsInt())
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeStrings:
		list, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range list {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	case TypeIntegerMap:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for _, e := range m {
			if !hasType(e, TypePositiveInteger) {
				return false
			}
		}
		return true
	}
	return false
}

// paramTypes reads the types object of the params package (a literal
// object: parameter name -> type), and checks that every parameter the
// package reads from data (object.get(_given, "name", default)) has a known
// type there. A policy without a params package declares no parameter.
func paramTypes(modules map[string]*ast.Module) (map[string]string, error) {
	types := map[string]string{}
	var problems []string
	for _, file := range sortedKeys(modules) {
		m := modules[file]
		if m.Package.Path.String() != ParamsPackage {
			continue
		}
		for _, r := range m.Rules {
			if r.Head.Name.String() != "types" && r.Head.Ref().String() != "types" {
				continue
			}
			var obj ast.Object
			if r.Head.Value != nil {
				obj, _ = r.Head.Value.Value.(ast.Object)
			}
			if obj == nil || !obj.IsGround() {
				return nil, fmt.Errorf("%s: %s.types must be a literal object of parameter name to type", file, ParamsPackage)
			}
			var bad error
			obj.Foreach(func(k, v *ast.Term) {
				name, ok1 := k.Value.(ast.String)
				typ, ok2 := v.Value.(ast.String)
				if !ok1 || !ok2 {
					bad = fmt.Errorf("%s: %s.types: %v: %v is not a string pair", file, ParamsPackage, k, v)
					return
				}
				switch string(typ) {
				case TypePositiveInteger, TypePositiveNumber, TypeBoolean, TypeStrings, TypeIntegerMap:
					types[string(name)] = string(typ)
				default:
					bad = fmt.Errorf("%s: %s.types: %s has type %s: expected %q, %q, %q, %q or %q", file, ParamsPackage, name, typ,
						TypePositiveInteger, TypePositiveNumber, TypeBoolean, TypeStrings, TypeIntegerMap)
				}
			})
			if bad != nil {
				return nil, bad
			}
		}
		for _, name := range paramsRead(m) {
			if _, ok := types[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s: parameter %q is read but has no type in %s.types", file, name, ParamsPackage))
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return types, nil
}

// paramsRead lists the names the params package reads from the operator's
// data with object.get(_given, "name", default).
func paramsRead(m *ast.Module) []string {
	seen := map[string]bool{}
	ast.WalkTerms(m, func(t *ast.Term) bool {
		call, ok := t.Value.(ast.Call)
		if !ok || len(call) != 4 || call[0].String() != "object.get" || call[1].String() != "_given" {
			return false
		}
		if s, ok := call[2].Value.(ast.String); ok {
			seen[string(s)] = true
		}
		return false
	})
	return sortedKeys(seen)
}

// ruleIDs are the ids of the rules (the last segment of each package under
// authz.rules).
func ruleIDs(modules map[string]*ast.Module) []string {
	var ids []string
	for _, m := range modules {
		if pkg := m.Package.Path.String(); strings.HasPrefix(pkg, RulePrefix) {
			ids = append(ids, pkg[strings.LastIndex(pkg, ".")+1:])
		}
	}
	return ids
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// article puts "a" or "an" before a type name, for the error message.
func article(typ string) string {
	if strings.IndexByte("aeiou", typ[0]) >= 0 {
		return "an " + typ
	}
	return "a " + typ
}
