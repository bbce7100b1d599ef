package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/internal/testutil"
	"github.com/dockward/dockward/plugin/policy"
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

// TestReloadUnderLoad swaps the policy back and forth while 64 clients drive
// the plugin: every answer comes whole from the old or the new policy, and
// none is an error.
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	dir := testutil.CopyTree(t, minimalPolicy)
	rule := filepath.Join(dir, "authz", "rules", "container", "no_privileged", "no_privileged.rego")
	orig, err := os.ReadFile(rule)
	if err != nil {
		t.Fatal(err)
	}
	// The new policy also denies a writable root filesystem.
	strict := append(append([]byte(nil), orig...), []byte(`
deny contains {"id": "no_privileged", "msg": "writable", "fix": ""} if {
	input.route.endpoint == "container.create"
	input.container.read_only == false
}
`)...)
	c, err := policy.Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(c)
	log := logrus.New()
	log.SetOutput(io.Discard)
	p := New(t.Context(), engine, input.Builder{Lookup: testLookup}, nil, log, Options{})
	client := serveTest(t, p)
	reloader := &policy.Reloader{Engine: engine, Dir: dir, Log: log}

	stop := make(chan struct{})
	var reloads int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			content := orig
			if i%2 == 0 {
				content = strict
			}
			if err := os.WriteFile(rule, content, 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := reloader.Reload(t.Context(), "test"); err != nil {
				t.Errorf("reload: %v", err)
				return
			}
			reloads++
		}
	}()
	var mu sync.Mutex
	outcomes := map[string]int{}
	var clients sync.WaitGroup
	for range 64 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for range 30 {
				r := call(t, client, "/AuthZPlugin.AuthZReq", create(`{"Image":"b","User":"1","HostConfig":{"ReadonlyRootfs":false}}`))
				key := "allow"
				switch {
				case r.Err != "":
					t.Errorf("error under reload: %s", r.Err)
					key = "error"
				case !r.Allow && strings.Contains(r.Msg, "[no_privileged] writable"):
					key = "deny by the new policy"
				case !r.Allow:
					t.Errorf("unexpected denial: %s", r.Msg)
					key = "other"
				}
				mu.Lock()
				outcomes[key]++
				mu.Unlock()
			}
		}()
	}
	clients.Wait()
	close(stop)
	wg.Wait()
	t.Logf("%d reloads during %v answers", reloads, outcomes)
	if reloads < 2 || outcomes["allow"] == 0 || outcomes["deny by the new policy"] == 0 {
		t.Errorf("the test did not see both policies: %d reloads, %v", reloads, outcomes)
	}
}
