package authz

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/input"
)

// BenchmarkDecision measures one decision in process: normalize + evaluate
// the shipped policy (+ audit, to io.Discard-like buffer for denials).
// Results: plugin/BENCHMARKS.md.
func BenchmarkDecision(b *testing.B) {
	hardened, err := os.ReadFile("../testdata/requests/allow/hardened_cli20_10.json")
	if err != nil {
		b.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(hardened, &fx); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name  string
		req   authorization.Request
		allow bool
	}{
		{"create_hardened", authorization.Request{RequestMethod: "POST", RequestURI: fx.RequestURI,
			RequestHeaders: fx.RequestHeaders, RequestBody: fx.RequestBody}, true},
		{"create_denied", create(`{"Image":"busybox","HostConfig":{"Privileged":true}}`), false},
		{"get_containers", authorization.Request{RequestMethod: "GET", RequestURI: "/v1.41/containers/json"}, true},
		// The same read with the read cache off: what a GET costs the
		// first time (or every time, for reads that never repeat).
		{"get_containers_uncached", authorization.Request{RequestMethod: "GET", RequestURI: "/v1.41/containers/json"}, true},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			opts := Options{}
			if strings.HasSuffix(bc.name, "_uncached") {
				opts.ReadCacheTTL = -1
			}
			h := newHarness(b, library, input.Builder{}, opts)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if h.plugin.AuthZReq(bc.req).Allow != bc.allow {
					b.Fatal("wrong decision")
				}
				if !bc.allow {
					h.mu.Lock()
					h.audit.Reset()
					h.mu.Unlock()
				}
			}
		})
	}
}
