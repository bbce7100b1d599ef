// Package bench drives an authorization plugin over its unix socket the way
// dockerd does, with a realistic mix of Docker API calls, and measures it
// against an always-allow plugin built on the same protocol library (the
// floor: what the protocol itself costs).
package bench

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/docker/go-plugins-helpers/authorization"
)

// Kind is one kind of request in the mix, with the answer dockward must
// give it under the shipped policy.
type Kind struct {
	Name   string
	Weight int
	Path   string // AuthZPlugin.AuthZReq or AuthZPlugin.AuthZRes
	Body   []byte // the protocol request, encoded once
	Allow  bool   // dockward's expected answer (the floor always allows)
	// Vary, when set, makes the body of the seq-th request instead of
	// Body: requests no cache has seen.
	Vary func(seq int64) []byte
}

//go:embed create_hardened.json
var createHardened []byte

// Mix returns the request mix: container creates as the docker CLI sends
// them (compliant and not), reads, an exec, and AuthZRes calls.
func Mix() ([]Kind, error) {
	var body json.RawMessage
	var fx struct {
		RequestBody json.RawMessage
	}
	if err := json.Unmarshal(createHardened, &fx); err != nil {
		return nil, err
	}
	body = fx.RequestBody
	denied := bytes.Replace(body, []byte(`"ReadonlyRootfs": true`), []byte(`"ReadonlyRootfs": false`), 1)
	if bytes.Equal(denied, body) {
		denied = bytes.Replace(body, []byte(`"ReadonlyRootfs":true`), []byte(`"ReadonlyRootfs":false`), 1)
	}
	req := func(method, uri string, body []byte) []byte {
		r := authorization.Request{RequestMethod: method, RequestURI: uri,
			RequestHeaders: map[string]string{"Content-Type": "application/json", "User-Agent": "Docker-Client/20.10.24+dfsg1 (linux)"}}
		if body != nil {
			r.RequestBody = body
		}
		b, _ := json.Marshal(r)
		return b
	}
	res := func(method, uri string, status int) []byte {
		r := authorization.Request{RequestMethod: method, RequestURI: uri, ResponseStatusCode: status,
			ResponseHeaders: map[string]string{"Content-Type": "application/json"}, ResponseBody: []byte(`{"Id":"4f1c"}`)}
		b, _ := json.Marshal(r)
		return b
	}
	const reqPath, resPath = "/AuthZPlugin.AuthZReq", "/AuthZPlugin.AuthZRes"
	return []Kind{
		{"create_hardened", 10, reqPath, req("POST", "/v1.41/containers/create?name=web", body), true, nil},
		{"create_denied", 5, reqPath, req("POST", "/v1.41/containers/create", denied), false, nil},
		{"container_list", 20, reqPath, req("GET", "/v1.41/containers/json?all=1", nil), true, nil},
		{"container_inspect", 15, reqPath, req("GET", "/v1.41/containers/web/json", nil), true, nil},
		{"ping", 15, reqPath, req("HEAD", "/_ping", nil), true, nil},
		{"version", 10, reqPath, req("GET", "/v1.41/version", nil), true, nil},
		{"exec_create", 5, reqPath, req("POST", "/v1.41/containers/web/exec", []byte(`{"User":"1000","AttachStdout":true,"Cmd":["sh"]}`)), true, nil},
		{"authz_res", 20, resPath, res("POST", "/v1.41/containers/create", 201), true, nil},
	}, nil
}

// SoakMix is Mix plus reads that are new every time (inspects of
// ever-different container ids): a long run through it shows whether
// anything grows with the requests the plugin has seen (caches, buffers).
func SoakMix() ([]Kind, error) {
	mix, err := Mix()
	if err != nil {
		return nil, err
	}
	unique := func(seq int64) []byte {
		b, _ := json.Marshal(authorization.Request{RequestMethod: "GET",
			RequestURI:     fmt.Sprintf("/v1.41/containers/%016x/json", seq),
			RequestHeaders: map[string]string{"User-Agent": "Docker-Client/20.10.24+dfsg1 (linux)"}})
		return b
	}
	return append(mix, Kind{Name: "inspect_unique", Weight: 10, Path: "/AuthZPlugin.AuthZReq", Allow: true, Vary: unique}), nil
}

// ReplaySoakMix is the replayed mix plus what a long-running host sends
// and a replay alone never repeats: reads of ever-different objects (which
// cycle the read cache) and compliant creates under ever-different names
// (which cycle the decision cache: each is a new input). The memory bound
// must hold with every cache full and turning over.
func ReplaySoakMix(recs []Record) ([]Kind, error) {
	mix, err := ReplayMix(recs)
	if err != nil {
		return nil, err
	}
	var create *authorization.Request
	for _, r := range recs {
		if r.Kind == "create_compliant" && strings.HasSuffix(r.Path, "AuthZReq") {
			req := r.Request
			create = &req
			break
		}
	}
	if create == nil {
		return nil, fmt.Errorf("replay corpus has no compliant create to vary")
	}
	path, _, _ := strings.Cut(create.RequestURI, "?")
	uniqueCreate := func(seq int64) []byte {
		req := *create
		req.RequestURI = fmt.Sprintf("%s?name=soak-%016x", path, seq)
		b, _ := json.Marshal(req)
		return b
	}
	uniqueRead := func(seq int64) []byte {
		b, _ := json.Marshal(authorization.Request{RequestMethod: "GET",
			RequestURI:     fmt.Sprintf("/v1.41/containers/%016x/json", seq),
			RequestHeaders: map[string]string{"User-Agent": "Docker-Client/20.10.24+dfsg1 (linux)"}})
		return b
	}
	return append(mix,
		Kind{Name: "read_unique", Weight: 500, Path: "/AuthZPlugin.AuthZReq", Allow: true, Vary: uniqueRead},
		Kind{Name: "create_unique", Weight: 300, Path: "/AuthZPlugin.AuthZReq", Allow: true, Vary: uniqueCreate}), nil
}
