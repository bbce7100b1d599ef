//go:build e2e

package e2e

import "testing"

// TestBypassB5RawURI (B5): the plugin gets the raw RequestURI, the daemon
// routes the decoded path. Each URI below carries a privileged create body;
// the ones the daemon routes to container.create must be refused by
// no_privileged (the plugin recognized the route). URIs the daemon does not
// route ("//", "/./", a trailing "/": gorilla/mux redirects or 404s them
// before any middleware, so the plugin is never asked) must at least do
// nothing.
func TestBypassB5RawURI(t *testing.T) { bypassB5(t, env(t), false) }

func bypassB5(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	json := "application/json"
	routed := []string{
		v + "/containers/create",
		"/containers/create",
		v + "/containers/%63reate",
		v + "/%63ontainers/create",
		v + "/containers%2Fcreate",
		v + "/containers%2fcreate",
		"/containers%2Fcreate",
		v + "/containers/create?name=dw-b5-query",
		v + "/containers/create?name=x&name=dw-b5-dup",
		v + "/containers/create?",
	}
	maybe := []string{
		"//containers/create",
		"/" + v + "/containers/create",
		v + "//containers/create",
		v + "/./containers/create",
		v + "/./containers/create/",
		v + "/containers/create/",
		v + "/containers/x/../create",
		v + "/containers/x/%2e%2e/create",
		v + "/containers/create#frag",
		"/v1.40/containers/create", // too old for the current engine
	}
	var cases []bodyCase
	for _, u := range routed {
		cases = append(cases, bodyCase{name: u, rq: rawReq{method: "POST", uri: u, ctype: json, body: privilegedBody}, want: []string{"no_privileged"}})
	}
	for _, u := range maybe {
		cases = append(cases, bodyCase{name: u, rq: rawReq{method: "POST", uri: u, ctype: json, body: privilegedBody}, want: []string{"no_privileged"}, daemonMay: true})
	}
	runBodyCases(t, hs, red, cases)
}
