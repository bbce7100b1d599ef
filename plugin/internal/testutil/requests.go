package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// FuzzSeeds reads the seeds of the input package's FuzzBuild corpus under
// dir (method, URI, body) as authz requests, keyed by file.
func FuzzSeeds(t testing.TB, dir string) map[string]authorization.Request {
	t.Helper()
	seeds, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	out := map[string]authorization.Request{}
	for _, f := range seeds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, line := range strings.Split(string(b), "\n")[1:] {
			line = strings.TrimSpace(line)
			if i := strings.Index(line, "("); i > 0 && strings.HasSuffix(line, ")") {
				s, err := strconv.Unquote(line[i+1 : len(line)-1])
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				vals = append(vals, s)
			}
		}
		if len(vals) != 3 {
			t.Fatalf("%s: %d values, want method, uri, body", f, len(vals))
		}
		out[f] = authorization.Request{RequestMethod: vals[0], RequestURI: vals[1], RequestBody: []byte(vals[2])}
	}
	return out
}
