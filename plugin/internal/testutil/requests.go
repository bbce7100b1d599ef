package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

// CapturedRequests are the authz requests the real docker CLI sent through
// dockerd (plugin/testdata/requests: allow/*.json, deny/*.json and
// deny/<rule>/*.json), by file path; dir is that directory relative to the
// test. A body of JSON null is no body, as dockerd sends it.
func CapturedRequests(t testing.TB, dir string) map[string]authorization.Request {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.json"))
	out := map[string]authorization.Request{}
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fx struct {
			RequestMethod  string
			RequestURI     string `json:"RequestUri"`
			RequestHeaders map[string]string
			RequestBody    json.RawMessage
		}
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r := authorization.Request{RequestMethod: fx.RequestMethod, RequestURI: fx.RequestURI, RequestHeaders: fx.RequestHeaders}
		if len(fx.RequestBody) > 0 && string(fx.RequestBody) != "null" {
			r.RequestBody = fx.RequestBody
		}
		out[f] = r
	}
	if len(out) == 0 {
		t.Fatalf("no captured requests under %s", dir)
	}
	return out
}
