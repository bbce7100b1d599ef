package cli

import (
	"bufio"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

// authzDaemon is a fake dockerd that does what the real one does with an
// authorization plugin: every request is sent to the plugin (AuthZReq on
// its socket) before it is handled, and a denial is answered 403
// "authorization denied by plugin <name>". Creates that are allowed fail
// with 404 "No such image", like a create of an image the daemon lacks.
type authzDaemon struct {
	plugin, name string
	enforce      atomic.Bool
	asked        atomic.Int64 // AuthZReqs sent to the plugin
}

func (d *authzDaemon) serve(t *testing.T, sock string) {
	t.Helper()
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	pc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", d.plugin)
	}}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if d.enforce.Load() {
			req := authorization.Request{RequestMethod: r.Method, RequestURI: r.URL.RequestURI(), RequestBody: body,
				RequestHeaders: map[string]string{"Content-Type": r.Header.Get("Content-Type")}}
			b, _ := json.Marshal(req)
			d.asked.Add(1)
			resp, err := pc.Post("http://p/AuthZPlugin.AuthZReq", "application/json", bytes.NewReader(b))
			if err != nil {
				apiError(w, 500, fmt.Sprintf("plugin %s failed with error: %v", d.name, err))
				return
			}
			var res authorization.Response
			_ = json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
			switch {
			case res.Err != "":
				apiError(w, 500, fmt.Sprintf("plugin %s failed with error: %s", d.name, res.Err))
				return
			case !res.Allow:
				apiError(w, 403, fmt.Sprintf("authorization denied by plugin %s: %s", d.name, res.Msg))
				return
			}
		}
		switch {
		case r.URL.Path == "/_ping" || strings.HasSuffix(r.URL.Path, "/_ping"):
			w.Header().Set("Api-Version", "1.41")
			fmt.Fprint(w, "OK")
		case strings.HasSuffix(r.URL.Path, "/version"):
			fmt.Fprint(w, `{"Version":"27.5.1","ApiVersion":"1.47"}`)
		default:
			apiError(w, 404, "No such image: dockward-doctor-canary:none")
		}
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// TestServeCanary runs serve against a daemon that asks the plugin about
// every request, as dockerd does: the canary the serve process sends comes
// back to the same process as an AuthZReq (whose image lookup goes to the
// daemon again, and back to the plugin as a read) and is answered without
// deadlock; the metric is 1 and exactly one audit record per canary names
// a dockward-canary-* container, denied by the policy's rules. When the
// daemon stops asking the plugin, the metric drops to 0.
func TestServeCanary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pol := testutil.CopyTree(t, "../policy/testdata/minimal")
	sock := filepath.Join(dir, "dw.sock")
	dsock := filepath.Join(dir, "docker.sock")
	audit := filepath.Join(dir, "a.log")
	d := &authzDaemon{plugin: sock, name: "dw"}
	d.enforce.Store(true)
	d.serve(t, dsock)
	port := freePort(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := run(t, ctx, "serve", "--socket", sock, "--policy-dir", pol, "--audit-log", audit,
			"--metrics-addr", fmt.Sprintf(":%d", port), "--docker-host", "unix://"+dsock, "--canary-interval", "300ms")
		done <- err
	}()
	metric := func() string {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "dockward_canary_ok ") {
				return line
			}
		}
		return "absent"
	}
	waitMetric := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := metric()
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("metric %q, want %q", got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitMetric("dockward_canary_ok 1")
	if d.asked.Load() < 2 {
		t.Errorf("the daemon asked the plugin %d times: the canary create and the image lookup it triggers both go through it", d.asked.Load())
	}
	// Every canary is one denied create in the audit log, recognisable by
	// its container name.
	canaries := func() (n int) {
		f, err := os.Open(audit)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var rec struct {
				Decision, Endpoint string
				ContainerName      string `json:"container_name"`
				Violations         []struct{ ID string }
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Endpoint != "container.create" || rec.Decision != "deny" || !strings.HasPrefix(rec.ContainerName, "dockward-canary-") ||
				len(rec.Violations) != 1 || rec.Violations[0].ID != "no_privileged" {
				t.Errorf("audit record %s: every record here is a canary's denied create", sc.Text())
			}
			n++
		}
		return n
	}
	if n := canaries(); n < 1 {
		t.Fatalf("%d canary records", n)
	}

	d.enforce.Store(false)
	waitMetric("dockward_canary_ok 0")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
