package authz

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/owner"
)

// BenchmarkDecision measures one decision in process: normalize + evaluate
// the shipped policy (+ audit, to io.Discard-like buffer for denials).
// Results: plugin/BENCHMARKS.md.
func BenchmarkDecision(b *testing.B) {
	fx := hardenedFixture(b)
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

// hardenedFixture is the compliant create the docker CLI 20.10 sends.
func hardenedFixture(b *testing.B) fixture {
	b.Helper()
	hardened, err := os.ReadFile("../testdata/requests/allow/hardened_cli20_10.json")
	if err != nil {
		b.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(hardened, &fx); err != nil {
		b.Fatal(err)
	}
	return fx
}

// BenchmarkDecisionNamedUser is what identity (issue 12) adds to a
// decision: a TLS user's groups, the level they select, and for an action
// on an object its owner from a real bbolt store. Results: BENCHMARKS.md.
func BenchmarkDecisionNamedUser(b *testing.B) {
	fx := hardenedFixture(b)
	s, err := owner.Open(filepath.Join(b.TempDir(), "owners.db"), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(owner.Container, idWeb, "alice", owner.KeepExisting, time.Now()); err != nil {
		b.Fatal(err)
	}
	groups := input.StaticGroups{"alice": {"alice", "docker"}, "bob": {"bob", "docker"}}
	named := func(user string, r authorization.Request) authorization.Request {
		r.User, r.UserAuthNMethod = user, "TLS"
		return r
	}
	cases := []struct {
		name  string
		req   authorization.Request
		allow bool
	}{
		{"create_hardened", named("alice", authorization.Request{RequestMethod: "POST", RequestURI: fx.RequestURI,
			RequestHeaders: fx.RequestHeaders, RequestBody: fx.RequestBody}), true},
		{"stop_own", named("alice", authorization.Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/" + idWeb + "/stop"}), true},
		{"stop_others", named("bob", authorization.Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/" + idWeb + "/stop"}), false},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b, library, input.Builder{Lookup: ownerLookup, Owners: s, Groups: groups}, Options{})
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if h.plugin.AuthZReq(bc.req).Allow != bc.allow {
					b.Fatal("wrong decision")
				}
				h.mu.Lock()
				h.audit.Reset()
				h.mu.Unlock()
			}
		})
	}
}
