package policy

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/internal/testutil"
)

// TestToValueMatchesJSON: the direct conversion gives the policy exactly what
// the JSON form of the input would (the documented contract), for every
// captured request.
func TestToValueMatchesJSON(t *testing.T) {
	t.Parallel()
	lookup := input.StaticLookup{Images: map[string]input.ImageInfo{"busybox": {ID: "sha256:bb"}}}
	n := 0
	for f, req := range testutil.CapturedRequests(t, "../testdata/requests") {
		in, err := input.Builder{Lookup: lookup}.Build(t.Context(), req)
		if err != nil {
			continue // denied before evaluation: nothing to convert
		}
		got, err := toValue(in)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		js, _ := json.Marshal(in)
		want, err := ast.ValueFromReader(bytes.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		if got.Compare(want) != 0 {
			t.Errorf("%s: direct conversion differs from JSON:\n got %v\nwant %v", f, got, want)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d requests converted", n)
	}
}

// TestBodyNumbersKeepTheirJSONForm: the body is converted lazily; a number a
// rule reads from it reads as the client wrote it (messages print it), not
// as a float's shortest form (1.34217728e+08).
func TestBodyNumbersKeepTheirJSONForm(t *testing.T) {
	t.Parallel()
	in, err := input.Builder{Lookup: input.StaticLookup{}}.Build(t.Context(), authorization.Request{
		RequestMethod: "POST", RequestURI: "/v1.41/containers/create",
		RequestHeaders: map[string]string{"Content-Type": "application/json"},
		RequestBody:    []byte(`{"Image":"busybox","User":"1000","HostConfig":{"Memory":134217728,"NanoCpus":500000000}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := toValue(in)
	if err != nil {
		t.Fatal(err)
	}
	ref := ast.MustParseRef("x.body.HostConfig.Memory")
	got, err := v.Find(ref[1:])
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "134217728" {
		t.Fatalf("body HostConfig.Memory reads %s, want 134217728", got)
	}
}

// TestToValueOmitsAsJSONDoes: omitempty omits what encoding/json omits (an
// empty but non-nil list or map, false, 0) and keeps what it keeps (a zero
// struct): the inputs the captured requests happen to build do not show
// every case, and the decision cache keys decisions by the JSON.
func TestToValueOmitsAsJSONDoes(t *testing.T) {
	t.Parallel()
	type inner struct {
		A string `json:"a"`
	}
	type doc struct {
		List   []string          `json:"list,omitempty"`
		Map    map[string]string `json:"map,omitempty"`
		Flag   bool              `json:"flag,omitempty"`
		N      int               `json:"n,omitempty"`
		Ptr    *inner            `json:"ptr,omitempty"`
		Struct inner             `json:"struct,omitempty"`
		Kept   []string          `json:"kept"`
	}
	for name, d := range map[string]doc{
		"empty non-nil": {List: []string{}, Map: map[string]string{}, Kept: []string{}},
		"nil":           {},
		"set":           {List: []string{"x"}, Map: map[string]string{"k": "v"}, Flag: true, N: 1, Ptr: &inner{}, Struct: inner{A: "a"}},
	} {
		got, err := toValue(d)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(d)
		want, _ := ast.ValueFromReader(bytes.NewReader(js))
		if got.Compare(want) != 0 {
			t.Errorf("%s: got %v, JSON says %v", name, got, want)
		}
	}
}
