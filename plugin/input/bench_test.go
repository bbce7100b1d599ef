package input

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

// BenchmarkBuild measures normalizing one request (routing, decoding the
// body as dockerd does, building the typed view). Results: plugin/BENCHMARKS.md.
func BenchmarkBuild(b *testing.B) {
	raw, err := os.ReadFile("../testdata/requests/allow/hardened_cli20_10.json")
	if err != nil {
		b.Fatal(err)
	}
	var fx struct {
		RequestURI  string `json:"RequestUri"`
		RequestBody json.RawMessage
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		b.Fatal(err)
	}
	cases := map[string]authorization.Request{
		"create_hardened": {RequestMethod: "POST", RequestURI: fx.RequestURI, RequestBody: fx.RequestBody,
			RequestHeaders: map[string]string{"Content-Type": "application/json"}},
		"get_containers": {RequestMethod: "GET", RequestURI: "/v1.41/containers/json?all=1"},
	}
	for name, req := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := testBuilder().Build(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
