package canary

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

// fakeDaemon serves the Docker API on a unix socket with a handler of the
// test's choosing; it records what it was sent.
type fakeDaemon struct {
	host string
	mu   sync.Mutex
	seen []string // "METHOD path?query"
	body map[string]any
}

func newFakeDaemon(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *fakeDaemon {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDaemon{host: "unix://" + sock}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Method+" "+r.URL.RequestURI())
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &f.body)
		}
		f.mu.Unlock()
		h(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

func dockerError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// Every answer dockerd can give to the canary maps to one outcome; a
// created canary is removed.
func TestSendClassifiesTheDaemonsAnswer(t *testing.T) {
	t.Parallel()
	const id = "3f2a0b6c-1d2e-4f50-9a8b-0c1d2e3f4a5b"
	tests := []struct {
		name       string
		status     int
		msg        string
		created    bool
		deleteCode int
		want       Outcome
		plugin     string
		decision   string
		removed    bool
		byPlugin   string // a name ByPlugin must accept ("" none)
	}{
		{name: "denied by dockward", status: 403, msg: "authorization denied by plugin dockward: 1 policy violation:\n  [no_privileged] privileged\n(dockward decision " + id + "; an operator can look it up in the audit log)",
			want: Enforced, plugin: "dockward", decision: id, byPlugin: "dockward"},
		{name: "denied by a managed plugin", status: 403, msg: "authorization denied by plugin dockward:latest: request denied",
			want: Enforced, plugin: "dockward:latest", byPlugin: "dockward"},
		{name: "plugin down", status: 500, msg: `plugin dockward failed with error: Post "http://%2Frun%2Fdocker%2Fplugins%2Fdockward.sock/AuthZPlugin.AuthZReq": dial unix: connection refused`,
			want: PluginFailed, plugin: "dockward"},
		{name: "no authorization plugin", status: 404, msg: "No such image: dockward-doctor-canary:none", want: NotEnforcing},
		{name: "created and removed", created: true, deleteCode: 204, want: Created, removed: true},
		{name: "created, removal refused", created: true, deleteCode: 403, want: Created},
		{name: "something else", status: 400, msg: "invalid reference format", want: Unexpected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newFakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPost && tt.created:
					w.WriteHeader(http.StatusCreated)
					fmt.Fprint(w, `{"Id":"0123456789abcdef0123","Warnings":[]}`)
				case r.Method == http.MethodPost:
					dockerError(w, tt.status, tt.msg)
				case r.Method == http.MethodDelete:
					w.WriteHeader(tt.deleteCode)
				}
			})
			c, err := NewClient(d.host, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			r := Send(t.Context(), c)
			if r.Outcome != tt.want || r.Plugin != tt.plugin || r.DecisionID != tt.decision || r.Removed != tt.removed {
				t.Fatalf("result %+v, want outcome %s plugin %q decision %q removed %v", r, tt.want, tt.plugin, tt.decision, tt.removed)
			}
			if tt.byPlugin != "" && !r.ByPlugin(tt.byPlugin) {
				t.Errorf("ByPlugin(%q) = false for %q", tt.byPlugin, r.Plugin)
			}
			if r.ByPlugin("other") {
				t.Errorf("ByPlugin(other) = true for %q", r.Plugin)
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			if !strings.HasPrefix(d.seen[0], "POST /containers/create?name="+NamePrefix) {
				t.Errorf("request %q", d.seen[0])
			}
			hc, _ := d.body["HostConfig"].(map[string]any)
			if d.body["Image"] != Image || hc["Privileged"] != true {
				t.Errorf("body %v: want the missing image, privileged", d.body)
			}
			wantDelete := tt.created
			if got := len(d.seen) == 2 && strings.HasPrefix(d.seen[1], "DELETE /containers/0123456789abcdef0123?force=1"); got != wantDelete {
				t.Errorf("requests %v (a created canary is deleted by id, nothing else is)", d.seen)
			}
			if s := r.Summary("dockward"); s == "" || (tt.want == NotEnforcing && !strings.Contains(s, "not enforcing")) ||
				(tt.want == Created && !tt.removed && !strings.Contains(s, "docker rm -f "+r.Name)) {
				t.Errorf("summary %q", s)
			}
		})
	}
}

func TestSendToNothing(t *testing.T) {
	t.Parallel()
	c, err := NewClient("unix://"+filepath.Join(t.TempDir(), "none.sock"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r := Send(t.Context(), c); r.Outcome != Unreachable || !strings.Contains(r.Summary("dockward"), "did not answer") {
		t.Fatalf("%+v", r)
	}
	for _, bad := range []string{"ssh://h", "unix://", "::"} {
		if _, err := NewClient(bad, time.Second); err == nil {
			t.Errorf("NewClient(%q) accepted", bad)
		}
	}
}

// The loop reports every run, retries soon while the daemon is away, and
// stops with its context.
func TestLoopReports(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	answer := func(w http.ResponseWriter, _ *http.Request) { dockerError(w, 404, "No such image: x") }
	d := newFakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answer
		mu.Unlock()
		a(w, r)
	})
	c, _ := NewClient(d.host, time.Second)
	got := make(chan bool, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	var logs testutil.SyncBuffer
	log := logrus.New()
	log.SetOutput(&logs)
	go func() {
		Loop{Client: c, Interval: 20 * time.Millisecond, Plugin: "dockward", First: time.Millisecond, Log: log,
			Report: func(ok bool, _ time.Time, _ Result) { got <- ok }}.Run(ctx)
		close(done)
	}()
	if ok := <-got; ok {
		t.Fatal("a daemon that does not enforce reported ok")
	}
	mu.Lock()
	answer = func(w http.ResponseWriter, _ *http.Request) {
		dockerError(w, 403, "authorization denied by plugin dockward: no")
	}
	mu.Unlock()
	deadline := time.After(5 * time.Second)
	for ok := false; !ok; {
		select {
		case ok = <-got:
		case <-deadline:
			t.Fatal("the loop never reported an enforcing daemon")
		}
	}
	cancel()
	<-done
	out := logs.String()
	if !strings.Contains(out, `level=error msg="ENFORCEMENT OFF: dockerd did not refuse the canary create`) ||
		!strings.Contains(out, `level=info msg="enforcement canary: dockerd refused the canary create`) {
		t.Errorf("log:\n%s", out)
	}
}
