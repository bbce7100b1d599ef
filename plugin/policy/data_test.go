package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

// libraryModules parses the shipped params package and one rule, which is
// what validateConfig needs to know the parameters and the rule ids.
func libraryModules(t *testing.T, extra ...string) map[string]*ast.Module {
	t.Helper()
	mods := map[string]*ast.Module{}
	files := append([]string{
		"../../policies/authz/lib/params/params.rego",
		"../../policies/authz/rules/container/memory_limit/memory_limit.rego",
		"../../policies/authz/rules/request/request_unknown_write_route/request_unknown_write_route.rego",
	}, extra...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ast.ParseModuleWithOpts(f, string(b), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		mods[f] = m
	}
	return mods
}

func TestValidateConfigParamsAndModes(t *testing.T) {
	t.Parallel()
	mods := libraryModules(t)
	tests := []struct {
		name string
		cfg  string // authz_config
		want string // substring of the error; "" = valid
	}{
		{"no config", `{}`, ""},
		{"shipped values", `{"params":{"max_memory":4294967296,"max_cpus":4,"max_pids":4096,"allowed_capabilities":["NET_RAW"],"allowed_host_paths":[],"require_digest":false,"allowed_images":["*"]}}`, ""},
		{"fractional cpus", `{"params":{"max_cpus":0.5}}`, ""},
		{"integer in exponent form", `{"params":{"max_memory":4e9}}`, ""},
		{"memory as a docker size", `{"params":{"max_memory":"4g"}}`, `params.max_memory is "4g": expected a positive integer`},
		{"ulimits with maxima", `{"params":{"allowed_ulimits":{"nofile":1048576,"nproc":4096}}}`, ""},
		{"ulimits as a list", `{"params":{"allowed_ulimits":["nofile"]}}`, `params.allowed_ulimits is ["nofile"]: expected an object of positive integers`},
		{"ulimit maximum as a string", `{"params":{"allowed_ulimits":{"nofile":"1m"}}}`, `params.allowed_ulimits is {"nofile":"1m"}`},
		{"memory as a quoted number", `{"params":{"max_memory":"4294967296"}}`, `params.max_memory is "4294967296"`},
		{"memory fractional", `{"params":{"max_memory":1.5}}`, "params.max_memory is 1.5"},
		{"memory zero", `{"params":{"max_memory":0}}`, "params.max_memory is 0"},
		{"pids negative", `{"params":{"max_pids":-1}}`, "params.max_pids is -1"},
		{"pids null", `{"params":{"max_pids":null}}`, "params.max_pids is null"},
		{"cpus as a string", `{"params":{"max_cpus":"2"}}`, `params.max_cpus is "2": expected a positive number`},
		{"digest as a string", `{"params":{"require_digest":"true"}}`, `params.require_digest is "true": expected a boolean`},
		{"host paths as a string", `{"params":{"allowed_host_paths":"/srv"}}`, `params.allowed_host_paths is "/srv": expected a list of strings`},
		{"a number in a list", `{"params":{"allowed_capabilities":["NET_RAW",1]}}`, "params.allowed_capabilities is"},
		{"typo in a name", `{"params":{"max_memroy":1024}}`, "params.max_memroy: unknown parameter (known: allowed_annotations, allowed_capabilities"},
		{"every problem listed", `{"params":{"max_pids":"1","max_cpus":"1"}}`, "params.max_cpus is \"1\": expected a positive number; params.max_pids"},
		{"dryrun a rule", `{"modes":{"memory_limit":"dryrun"}}`, ""},
		{"mode unknown value", `{"modes":{"memory_limit":"audit"}}`, `modes.memory_limit is "audit"`},
		{"mode for a rule that does not exist", `{"modes":{"memory_limits":"dryrun"}}`, "modes.memory_limits: no rule has this id"},
		{"dryrun a request guard", `{"modes":{"request_unknown_write_route":"dryrun"}}`, "modes.request_unknown_write_route: request_* guards are always enforced"},
		{"enforce a request guard", `{"modes":{"request_unknown_write_route":"enforce"}}`, "request_* guards are always enforced"},
		{"a guard of another library", `{"modes":{"request_anything":"dryrun"}}`, "request_* guards are always enforced"},
		// admins and exempt_users: a list of names, or users and groups.
		{"admins as names", `{"admins":["ops"],"exempt_users":["ci-bot"]}`, ""},
		{"admins by group", `{"admins":{"users":["ops"],"groups":["wheel"]},"exempt_users":{"groups":["ci"]}}`, ""},
		{"admins as a string", `{"admins":"ops"}`, `admins is "ops": expected a list of user names or {"users": [...], "groups": [...]}`},
		{"admins with a misspelt key", `{"admins":{"group":["wheel"]}}`, `admins: unknown key "group"`},
		{"admins key in capitals", `{"admins":{"Users":["ops"]}}`, `admins: unknown key "Users"`},
		{"admins groups as a string", `{"admins":{"groups":"wheel"}}`, "admins: json: cannot unmarshal string"},
		{"exempt the unnamed caller", `{"exempt_users":[""]}`, "exempt_users[0] is empty: the unnamed caller"},
		{"exempt an unnamed group", `{"exempt_users":{"groups":["ci",""]}}`, "exempt_users.groups[1] is empty"},
		// exemptions: groups, and no unknown key.
		{"exemption by group", `{"exemptions":[{"groups":["ci"],"users":["bob"],"rules":["*"],"reason":"r"}]}`, ""},
		{"exemption with a misspelt key", `{"exemptions":[{"user":["bob"],"reason":"r"}]}`, `exemptions[0]: unknown key "user"`},
		{"exemption groups as a string", `{"exemptions":[{"groups":"ci","reason":"r"}]}`, "exemptions[0]: json: cannot unmarshal string"},
		// levels.
		{"levels shipped", `{"levels":{"default":"restricted","groups":{"ci":"baseline"},"users":{"ops":"privileged"}}}`, ""},
		{"levels without default", `{"levels":{"groups":{"ci":"baseline"}}}`, ""},
		{"level misspelt", `{"levels":{"default":"restricted","groups":{"ci":"basline"}}}`, `levels.groups.ci is "basline": expected one of privileged, baseline, restricted`},
		{"default level unknown", `{"levels":{"default":"strict"}}`, `levels.default is "strict"`},
		{"user level unknown", `{"levels":{"users":{"alice":""}}}`, `levels.users.alice is ""`},
		{"level of the unnamed caller", `{"levels":{"users":{"":"baseline"}}}`, "levels.users has an empty name"},
		{"levels with a misspelt key", `{"levels":{"group":{"ci":"baseline"}}}`, `levels: unknown key "group"`},
		{"levels as a list", `{"levels":["baseline"]}`, "levels: json: cannot unmarshal array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg any
			if err := util.UnmarshalJSON([]byte(tt.cfg), &cfg); err != nil {
				t.Fatal(err)
			}
			err := validateConfig(map[string]any{"authz_config": cfg}, mods)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// A params package must declare the type of every parameter it reads, so a
// new parameter cannot be added without one.
func TestParamTypesDeclaration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, module, want string
	}{
		{"every read typed", "package authz.lib.params\n_given := {}\ntypes := {\"a\": \"boolean\"}\na := object.get(_given, \"a\", false)\n", ""},
		{"a read without a type", "package authz.lib.params\n_given := {}\ntypes := {\"a\": \"boolean\"}\na := object.get(_given, \"a\", false)\nb := object.get(_given, \"b\", 1)\n", `parameter "b" is read but has no type`},
		{"a read in a comprehension", "package authz.lib.params\n_given := {}\ntypes := {}\nc := {x | some x in object.get(_given, \"c\", [])}\n", `parameter "c" is read but has no type`},
		{"no types object", "package authz.lib.params\n_given := {}\na := object.get(_given, \"a\", false)\n", `parameter "a" is read but has no type`},
		{"an unknown type", "package authz.lib.params\ntypes := {\"a\": \"string\"}\n", `"a" has type "string": expected`},
		{"types not literal", "package authz.lib.params\nx := \"boolean\"\ntypes := {\"a\": x}\n", "must be a literal object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ast.ParseModuleWithOpts("params.rego", tt.module, ast.ParserOptions{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = paramTypes(map[string]*ast.Module{"params.rego": m})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// Every declared type belongs to a parameter the shipped library reads, and
// the shipped data.json passes (Load checks it): the table cannot drift.
func TestShippedParamTypes(t *testing.T) {
	t.Parallel()
	mods := libraryModules(t)
	types, err := paramTypes(mods)
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, m := range mods {
		for _, n := range paramsRead(m) {
			read[n] = true
		}
	}
	for name := range types {
		if !read[name] {
			t.Errorf("params.types declares %q, which params.rego never reads", name)
		}
	}
	if len(types) == 0 {
		t.Fatal("no parameter types declared")
	}
}

// The whole path: a mistyped parameter stops the load of the shipped
// library (policy check and serve use Load).
func TestLoadRejectsMistypedParam(t *testing.T) {
	t.Parallel()
	dir := testutil.CopyTree(t, "../../policies")
	path := filepath.Join(dir, "data.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, strings.Replace(string(b), `"max_memory": 4294967296`, `"max_memory": "4g"`, 1))
	if _, err := Load(t.Context(), dir); err == nil || !strings.Contains(err.Error(), `params.max_memory is "4g"`) {
		t.Fatalf("err = %v", err)
	}
}
