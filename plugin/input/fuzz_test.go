package input

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

// FuzzBuild feeds the normalizer arbitrary URIs and bodies, seeded with real
// requests captured from the docker CLI. It must never panic, and every
// input is either decoded (a container create then has its typed view) or
// refused with an error.
func FuzzBuild(f *testing.F) {
	files, _ := filepath.Glob("../testdata/requests/*/*.json")
	more, _ := filepath.Glob("../testdata/requests/deny/*/*.json")
	for _, file := range append(files, more...) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var fx struct {
			RequestURI  string `json:"RequestUri"`
			RequestBody json.RawMessage
		}
		if err := json.Unmarshal(b, &fx); err != nil {
			f.Fatal(err)
		}
		f.Add("POST", fx.RequestURI, []byte(fx.RequestBody))
	}
	f.Add("POST", "/v1.41/containers/%63reate", []byte(`{"hostconfig":{"PRIVILEGED":true}}`))
	f.Add("POST", "//containers/./create/", []byte(`{"Image":"b","Privileged":true}`))
	f.Add("GET", "/v1.41/containers/json?all=1", []byte(nil))
	f.Add("POST", "/containers/x/exec", []byte(`{"Env":["A=b"],"User":"0"}`))
	f.Fuzz(func(t *testing.T, method, uri string, body []byte) {
		req := authorization.Request{RequestMethod: method, RequestURI: uri, RequestBody: body,
			RequestHeaders: map[string]string{"Content-Type": "application/json"}}
		in, err := Builder{Resolver: mapResolver{}, Lookup: testLookup}.Build(t.Context(), req)
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) && !errors.Is(err, ErrNoRequest) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if in.Route.Endpoint == "container.create" && in.Container == nil {
			t.Fatalf("container create decoded without a container view: %q", body)
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatalf("input does not encode: %v", err)
		}
	})
}

// mapResolver resolves without touching the filesystem, so the fuzzer is
// hermetic and fast.
type mapResolver struct{}

func (mapResolver) Resolve(p string) (string, error) { return p, nil }
