package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/input"
)

// serveTest starts the plugin on a unix socket in a temp dir, as dockerd
// would reach it, and returns an HTTP client bound to it.
func serveTest(t *testing.T, p *Plugin) *http.Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "p.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go func() { _ = Serve(ctx, l, p) }()
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}

func call(t *testing.T, c *http.Client, path string, req any) authorization.Response {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, err := c.Post("http://plugin"+path, "application/vnd.docker.plugins.v1.2+json", bytes.NewReader(b))
	if err != nil {
		t.Error(err)
		return authorization.Response{}
	}
	defer resp.Body.Close()
	var out authorization.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Errorf("decode response: %v", err)
	}
	return out
}

func TestServeProtocol(t *testing.T) {
	t.Parallel()
	h := newHarness(t, minimalPolicy, input.Builder{}, Options{})
	c := serveTest(t, h.plugin)

	resp, err := c.Post("http://plugin/Plugin.Activate", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var act struct{ Implements []string }
	_ = json.NewDecoder(resp.Body).Decode(&act)
	resp.Body.Close()
	if len(act.Implements) != 1 || act.Implements[0] != "authz" {
		t.Fatalf("activate: %+v", act)
	}

	// A body the helper cannot decode reaches the plugin as a zero Request.
	raw, err := c.Post("http://plugin/AuthZPlugin.AuthZReq", "application/json", bytes.NewReader([]byte("{not json")))
	if err != nil {
		t.Fatal(err)
	}
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(raw.Body)
	raw.Body.Close()
	if bytes.Contains(body.Bytes(), []byte(`"Allow":true`)) {
		t.Fatalf("undecodable protocol request allowed: %s", body)
	}

	if r := call(t, c, "/AuthZPlugin.AuthZRes", authorization.Request{RequestMethod: "GET", RequestURI: "/_ping"}); !r.Allow {
		t.Errorf("AuthZRes denied: %+v", r)
	}
}

// TestServeConcurrent drives the plugin from many clients at once; every
// answer must be the right one (run with -race).
func TestServeConcurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, minimalPolicy, input.Builder{}, Options{})
	c := serveTest(t, h.plugin)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				priv := (g+i)%2 == 0
				body := fmt.Sprintf(`{"Image":"b","HostConfig":{"Privileged":%v}}`, priv)
				r := call(t, c, "/AuthZPlugin.AuthZReq", create(body))
				if r.Allow == priv {
					t.Errorf("privileged=%v: allow=%v %s", priv, r.Allow, r.Msg)
				}
				if g := call(t, c, "/AuthZPlugin.AuthZReq", authorization.Request{RequestMethod: "GET", RequestURI: "/v1.41/containers/json"}); !g.Allow {
					t.Errorf("GET denied: %+v", g)
				}
			}
		}()
	}
	wg.Wait()
}
