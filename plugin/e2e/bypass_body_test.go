//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"testing"
)

// bodyCase is one hand-made request against a body-bearing route.
type bodyCase struct {
	name string
	rq   rawReq
	// want: rule ids or goGuard, any of which may explain the refusal.
	want []string
	// daemonMay: the daemon itself may refuse first (nothing reaches the
	// plugin); the test then only checks that nothing happened.
	daemonMay bool
}

// runBodyCases sends each case and checks the refusal and that no
// container, volume or network appeared. In the red replay, cases that
// only a Go-level guard refuses are skipped (a policy mode cannot switch
// Go code off), and the others must pass dockward.
func runBodyCases(t *testing.T, hs *harness, red bool, cases []bodyCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			policy := false
			for _, w := range c.want {
				policy = policy || w != goGuard
			}
			if red && (!policy || c.daemonMay) {
				t.Skip("refused by Go code (or by the daemon), not by a policy rule: cannot be switched off from the policy")
			}
			before := hs.snap(t)
			o := hs.raw(t, c.rq)
			if red && o.goLevel() && slices.Contains(c.want, goGuard) {
				// This engine did not forward the body: the Go guard
				// answers, and no policy mode can switch it off.
				t.Skipf("refused by the Go-level guard on this engine: %v", o)
			}
			if len(c.want) > 1 {
				t.Logf("answered by dockward: %v, go-level guard: %v, rules %v", o.byPlugin(), o.goLevel(), o.rules())
			}
			switch {
			case red:
				verdict(t, o, true, c.want...)
			case c.daemonMay:
				expectRefusedAnywhere(t, o, c.want...)
			default:
				expectRefused(t, o, c.want...)
			}
			hs.settle(t, before, red)
		})
	}
}

// TestBypassB1MissingBody (B1, CVE-2024-41110): a body-bearing route with
// no body, a zero Content-Length, or a chunked body must never be allowed
// on the strength of "there was nothing to inspect".
//
// The missing-body guard is Go code (input.Builder), not a rule: the red
// replay cannot switch it off, so those cases only run here. The chunked
// case carries a privileged body and is refused by no_privileged when the
// daemon forwards chunked bodies (fixed engines) or by the missing-body
// guard when it does not.
func TestBypassB1MissingBody(t *testing.T) { bypassB1(t, env(t), false) }

func bypassB1(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	id := hs.compliantContainer(t, "dw-b1-target", true)
	json := "application/json"
	cases := []bodyCase{
		{name: "create, Content-Length 0", rq: rawReq{method: "POST", uri: v + "/containers/create", ctype: json}, want: []string{goGuard}},
		{name: "create, no Content-Type, no body", rq: rawReq{method: "POST", uri: v + "/containers/create"}, want: []string{goGuard}, daemonMay: true},
		{name: "create, empty JSON object", rq: rawReq{method: "POST", uri: v + "/containers/create", ctype: json, body: []byte(`{}`)}, want: []string{goGuard}, daemonMay: true},
		{name: "create, chunked privileged body", rq: rawReq{method: "POST", uri: v + "/containers/create", ctype: json, body: privilegedBody, chunked: true}, want: []string{"no_privileged", goGuard}},
		{name: "create, not JSON", rq: rawReq{method: "POST", uri: v + "/containers/create", ctype: json, body: []byte(`{"Image":`)}, want: []string{goGuard}},
		{name: "exec, no body", rq: rawReq{method: "POST", uri: v + "/containers/" + id + "/exec", ctype: json}, want: []string{goGuard}},
		{name: "exec, chunked privileged body", rq: rawReq{method: "POST", uri: v + "/containers/" + id + "/exec", ctype: json, chunked: true,
			body: []byte(`{"Cmd":["true"],"Privileged":true,"User":"1000"}`)}, want: []string{"exec_no_privileged", goGuard}},
		{name: "update, no body", rq: rawReq{method: "POST", uri: v + "/containers/" + id + "/update", ctype: json}, want: []string{goGuard}},
		{name: "volume create, no body", rq: rawReq{method: "POST", uri: v + "/volumes/create", ctype: json}, want: []string{goGuard}},
		{name: "network create, no body", rq: rawReq{method: "POST", uri: v + "/networks/create", ctype: json}, want: []string{goGuard}},
		{name: "service create, no body", rq: rawReq{method: "POST", uri: v + "/services/create", ctype: json}, want: []string{goGuard}},
		{name: "service create, chunked, no Content-Type", rq: rawReq{method: "POST", uri: v + "/services/create", chunked: true,
			body: []byte(`{"Name":"dw-b1","TaskTemplate":{"ContainerSpec":{"Image":"` + testImage + `","Privileges":{"NoNewPrivileges":false}}}}`)}, want: []string{goGuard}},
		{name: "plugin set, no body", rq: rawReq{method: "POST", uri: v + "/plugins/dockward/set", ctype: json}, want: []string{goGuard, "plugin_admin_only"}},
		{name: "secret create, no body", rq: rawReq{method: "POST", uri: v + "/secrets/create", ctype: json}, want: []string{goGuard}},
		{name: "config create, no body", rq: rawReq{method: "POST", uri: v + "/configs/create", ctype: json}, want: []string{goGuard}},
		{name: "swarm init, no body", rq: rawReq{method: "POST", uri: v + "/swarm/init", ctype: json}, want: []string{goGuard}},
		{name: "swarm join, no body", rq: rawReq{method: "POST", uri: v + "/swarm/join", ctype: json}, want: []string{goGuard}},
		{name: "swarm update, no body", rq: rawReq{method: "POST", uri: v + "/swarm/update?version=1", ctype: json}, want: []string{goGuard}},
	}
	runBodyCases(t, hs, red, cases)
	if !red {
		t.Run("the target container is untouched", func(t *testing.T) {
			if hs.hostConfigField(t, id, "PidsLimit") != "100" || hs.hostConfigField(t, id, "Privileged") != "false" {
				t.Errorf("target changed: PidsLimit %s, Privileged %s", hs.hostConfigField(t, id, "PidsLimit"), hs.hostConfigField(t, id, "Privileged"))
			}
		})
	}
}

// TestBypassB2OversizedBody (B1/B2, CVE-2026-34040): a create body over
// 1 MiB. Engines before 29.3.1 drop it before the plugin and still execute
// the request: the plugin then sees no body and must refuse (Go-level
// guard); fixed engines forward it and no_privileged refuses. The test logs
// which the engine did.
func TestBypassB2OversizedBody(t *testing.T) { bypassB2(t, env(t), false) }

func bypassB2(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	pad := strings.Repeat("x", 1<<20+4096)
	body := createBody(hardenedHostConfig + `,"Privileged":true`)
	body = []byte(strings.Replace(string(body), `"dockward-e2e":"bypass"`, `"dockward-e2e":"bypass","pad":"`+pad+`"`, 1))
	fixed, known := hs.engineAtLeast(29, 3, 1)
	if !known {
		t.Logf("engine %s: version not parseable; assuming it may drop bodies over 1 MiB (CVE-2026-34040)", hs.versions)
	} else {
		t.Logf("engine %s: affected by the >1 MiB body drop (CVE-2026-34040): %v", hs.versions, !fixed)
	}
	want := []string{"no_privileged"}
	if !fixed {
		want = append(want, goGuard)
	}
	runBodyCases(t, hs, red, []bodyCase{
		{name: "create, privileged body over 1 MiB", rq: rawReq{method: "POST", uri: v + "/containers/create", ctype: "application/json", body: body}, want: want},
		{name: "create, privileged body over 1 MiB, chunked", rq: rawReq{method: "POST", uri: v + "/containers/create", ctype: "application/json", body: body, chunked: true}, want: want},
	})
}

// TestBypassB3ContentType (B3): the daemon decodes JSON bodies whatever the
// media type's parameters and letter case; the plugin must see them too.
// With text/plain the daemon forwards no body to the plugin: the plugin's
// missing-body guard (or the daemon's own JSON check) refuses it.
func TestBypassB3ContentType(t *testing.T) { bypassB3(t, env(t), false) }

func bypassB3(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	cases := []bodyCase{}
	for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "APPLICATION/JSON;charset=UTF-8", "application/json ; foo=bar"} {
		cases = append(cases, bodyCase{name: "privileged create, " + ct,
			rq:   rawReq{method: "POST", uri: v + "/containers/create", ctype: ct, body: privilegedBody},
			want: []string{"no_privileged"}})
	}
	for _, ct := range []string{"text/plain", "application/x-json"} {
		cases = append(cases, bodyCase{name: "privileged create, " + ct,
			rq:   rawReq{method: "POST", uri: v + "/containers/create", ctype: ct, body: privilegedBody},
			want: []string{goGuard, "no_privileged"}, daemonMay: true})
	}
	runBodyCases(t, hs, red, cases)
}

// TestBypassB4KeyShapes (B4): case-variant keys, duplicate keys (the last
// wins; a second HostConfig object merges into the first, as
// encoding/json does) and the legacy create shape with HostConfig fields
// at the top level (honoured by engines through 20.10: refused by Go code
// as ambiguous).
func TestBypassB4KeyShapes(t *testing.T) { bypassB4(t, env(t), false) }

func bypassB4(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	head := `{"Image":"` + testImage + `","User":"1000:1000","Cmd":["true"],`
	bodies := []struct {
		name, body string
		want       []string
	}{
		{"lower-case hostconfig, upper-case PRIVILEGED", head + `"hostconfig":{` + hardenedHostConfig + `,"PRIVILEGED":true}}`, []string{"no_privileged"}},
		{"mixed-case keys", head + `"hostConfig":{` + hardenedHostConfig + `,"privileged":true}}`, []string{"no_privileged"}},
		{"duplicate Privileged, last true", head + `"HostConfig":{` + hardenedHostConfig + `,"Privileged":false,"Privileged":true}}`, []string{"no_privileged"}},
		{"duplicate HostConfig, last privileged", head + `"HostConfig":{` + hardenedHostConfig + `},"HostConfig":{` + hardenedHostConfig + `,"Privileged":true}}`, []string{"no_privileged"}},
		{"duplicate HostConfig, first privileged, second merges", head + `"HostConfig":{` + hardenedHostConfig + `,"Privileged":true},"hostconfig":{"Memory":134217728}}`, []string{"no_privileged"}},
		{"legacy top-level Privileged", head + `"Privileged":true,"HostConfig":{` + hardenedHostConfig + `}}`, []string{goGuard}},
		{"legacy top-level Binds", head + `"Binds":["/:/host"],"HostConfig":{` + hardenedHostConfig + `}}`, []string{goGuard}},
	}
	var cases []bodyCase
	for _, b := range bodies {
		cases = append(cases, bodyCase{name: b.name, want: b.want,
			rq: rawReq{method: "POST", uri: v + "/containers/create", ctype: "application/json", body: []byte(b.body)}})
	}
	runBodyCases(t, hs, red, cases)
}
