package policy

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/input"
)

// BenchmarkEval measures evaluating the shipped library on an input already
// built, and converting the input to an OPA value. Results: plugin/BENCHMARKS.md.
func BenchmarkEval(b *testing.B) {
	c, err := Load(b.Context(), library)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("../testdata/requests/allow/hardened_cli20_10.json")
	if err != nil {
		b.Fatal(err)
	}
	var fx struct {
		RequestURI  string `json:"RequestUri"`
		RequestBody json.RawMessage
	}
	_ = json.Unmarshal(raw, &fx)
	builder := input.Builder{Lookup: input.StaticLookup{}}
	create, err := builder.Build(b.Context(), authorization.Request{RequestMethod: "POST", RequestURI: fx.RequestURI,
		RequestBody: fx.RequestBody, RequestHeaders: map[string]string{"Content-Type": "application/json"}})
	if err != nil {
		b.Fatal(err)
	}
	get, _ := builder.Build(b.Context(), authorization.Request{RequestMethod: "GET", RequestURI: "/v1.41/containers/json"})
	for name, in := range map[string]*input.Input{"create_hardened": create, "get_containers": get} {
		b.Run("eval_"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, err := c.Eval(b.Context(), in); err != nil || !d.Allow {
					b.Fatal(err, d)
				}
			}
		})
		b.Run("to_value_"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := toValue(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
