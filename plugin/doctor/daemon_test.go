package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/policy"
)

func serveUnix(t *testing.T, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

// realPlugin serves dockward's authz plugin with the minimal policy (it
// denies privileged containers) on a unix socket.
func realPlugin(t *testing.T) string {
	t.Helper()
	c, err := policy.Load(t.Context(), "../policy/testdata/minimal")
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	p := authz.New(t.Context(), policy.NewEngine(c), input.Builder{Lookup: input.StaticLookup{}}, nil, log, authz.Options{})
	sock := filepath.Join(t.TempDir(), "p.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go func() { _ = authz.Serve(ctx, l, p) }()
	return sock
}

// fakePlugin answers the plugin protocol with fixed verdicts.
func fakePlugin(t *testing.T, implements string, allowAll bool) string {
	t.Helper()
	return serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/Plugin.Activate":
			fmt.Fprintf(w, `{"Implements":[%q]}`, implements)
		case "/AuthZPlugin.AuthZReq":
			var req authorization.Request
			_ = json.NewDecoder(r.Body).Decode(&req)
			_ = json.NewEncoder(w).Encode(authorization.Response{Allow: allowAll || req.RequestMethod == "GET", Msg: "no"})
		}
	}))
}

func TestPluginChecks(t *testing.T) {
	t.Parallel()
	stale := filepath.Join(t.TempDir(), "stale.sock")
	if l, err := net.Listen("unix", stale); err == nil {
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
	}
	tests := []struct {
		name           string
		sock           string
		answers, judge Status
		want           string
	}{
		{"dockward", realPlugin(t), OK, OK, "[no_privileged]"},
		{"not running", filepath.Join(t.TempDir(), "none.sock"), Fail, Skip, "nothing at"},
		{"stale socket", stale, Fail, Skip, "no process serves it"},
		{"not an authz plugin", fakePlugin(t, "VolumeDriver", false), Fail, Skip, "not an authorization plugin"},
		{"allows everything", fakePlugin(t, "authz", true), OK, Fail, "ALLOWS a privileged container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &env{opts: Options{PluginSocket: tt.sock, Timeout: 5 * time.Second}}
			a := checkPluginAnswers(t.Context(), e)
			j := checkPluginVerdicts(t.Context(), e)
			if a.Status != tt.answers || j.Status != tt.judge || !strings.Contains(a.Detail+" "+j.Detail, tt.want) {
				t.Fatalf("answers %+v\njudges %+v\nwant %s/%s with %q", a, j, tt.answers, tt.judge, tt.want)
			}
			for _, r := range []Result{a, j} {
				if r.Status == Fail && r.Fix == "" {
					t.Errorf("a failure without a fix: %+v", r)
				}
			}
		})
	}
}

// fakeDockerd answers /version, /info and the canary's create as a daemon
// of the given version, with plugins configured, enforcing or not.
func fakeDockerd(t *testing.T, version string, configured []string, create func(w http.ResponseWriter)) string {
	t.Helper()
	return "unix://" + serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/version":
			fmt.Fprintf(w, `{"Version":%q,"ApiVersion":"1.41"}`, version)
		case r.URL.Path == "/info":
			b, _ := json.Marshal(map[string]any{"Plugins": map[string]any{"Authorization": configured}})
			_, _ = w.Write(b)
		case r.URL.Path == "/containers/create":
			create(w)
		default:
			w.WriteHeader(http.StatusNoContent) // the removal of a created canary
		}
	}))
}

func answer(status int, msg string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
}

func TestDaemonChecks(t *testing.T) {
	t.Parallel()
	denied := answer(403, "authorization denied by plugin dockward: 1 policy violation:\n  [no_privileged] x\n(dockward decision 3f2a0b6c-1d2e-4f50-9a8b-0c1d2e3f4a5b; an operator can look it up in the audit log)")
	noImage := answer(404, "No such image: dockward-doctor-canary:none")
	tests := []struct {
		name                          string
		version                       string
		configured                    []string
		create                        func(http.ResponseWriter)
		engine, configuredS, enforced Status
		want                          string
	}{
		{"enforcing, current engine", "29.4.0", []string{"dockward"}, denied, OK, OK, OK, "dockward decision 3f2a0b6c"},
		{"enforcing, engine with CVEs", "20.10.24+dfsg1", []string{"dockward"}, denied, Warn, OK, OK, "CVE-2024-41110"},
		{"engine built from source", "library-import", []string{"dockward"}, denied, Warn, OK, OK, "not a release number"},
		{"managed plugin", "29.4.0", []string{"dockward:latest"}, answer(403, "authorization denied by plugin dockward:latest: no"), OK, OK, OK, "dockward:latest"},
		{"no authorization plugin", "29.4.0", nil, noImage, OK, Fail, Fail, "not enforcing"},
		{"configured, policy allows it", "29.4.0", []string{"dockward"}, noImage, OK, OK, Fail, "the plugin ALLOWED it"},
		{"plugin down", "29.4.0", []string{"dockward"}, answer(500, "plugin dockward failed with error: dial unix: connection refused"), OK, OK, Fail, "failed (every request is refused"},
		{"another plugin", "29.4.0", []string{"opa-docker-authz"}, answer(403, "authorization denied by plugin opa-docker-authz: no"), OK, Fail, Fail, "not by dockward"},
		{"canary created", "29.4.0", nil, func(w http.ResponseWriter) {
			w.WriteHeader(201)
			fmt.Fprint(w, `{"Id":"abc123"}`)
		}, OK, Fail, Fail, "CREATED the privileged canary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := Options{PluginName: "dockward", DockerHost: fakeDockerd(t, tt.version, tt.configured, tt.create), PluginSocket: "/nonexistent"}
			rep := Run(t.Context(), o)
			by := map[string]Result{}
			for _, c := range rep.Checks {
				by[c.ID] = c
			}
			got := []Status{by["daemon.engine"].Status, by["daemon.configured"].Status, by["daemon.enforcing"].Status}
			want := []Status{tt.engine, tt.configuredS, tt.enforced}
			all := by["daemon.engine"].Detail + " | " + by["daemon.configured"].Detail + " | " + by["daemon.enforcing"].Detail
			if fmt.Sprint(got) != fmt.Sprint(want) || !strings.Contains(all, tt.want) {
				t.Fatalf("statuses %v, want %v; details %s; want %q", got, want, all, tt.want)
			}
			for _, c := range rep.Checks {
				if (c.Status == Fail || c.Status == Warn) && c.Fix == "" {
					t.Errorf("%s: %s without a fix", c.ID, c.Status)
				}
			}
			if rep.OK {
				t.Error("report OK with the plugin socket missing")
			}
			if _, ok := by["identity.pki"]; ok || by["identity"].Status != Skip {
				t.Errorf("identity off, checks %v", rep.Checks)
			}
		})
	}
}

func TestDaemonDown(t *testing.T) {
	t.Parallel()
	rep := Run(t.Context(), Options{PluginName: "dockward", PluginSocket: realPlugin(t), DockerHost: "unix://" + filepath.Join(t.TempDir(), "none.sock")})
	var st []string
	for _, c := range rep.Checks {
		st = append(st, c.ID+"="+string(c.Status))
	}
	want := "plugin.answers=ok plugin.verdicts=ok daemon.engine=fail daemon.configured=skip daemon.enforcing=skip identity=skip"
	if strings.Join(st, " ") != want || rep.OK {
		t.Fatalf("got %s, want %s", strings.Join(st, " "), want)
	}
}

func TestResolveSocket(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	legacy := filepath.Join(dir, "dockward.sock")
	if got := ResolveSocket(legacy); got != legacy {
		t.Errorf("nothing anywhere: %s", got)
	}
	managed := filepath.Join(dir, "0123abcd", "dockward.sock")
	if err := os.MkdirAll(filepath.Dir(managed), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(managed, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ResolveSocket(legacy); got != managed {
		t.Errorf("one managed plugin: %s, want %s", got, managed)
	}
	if err := os.WriteFile(legacy, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ResolveSocket(legacy); got != legacy {
		t.Errorf("the legacy socket exists: %s", got)
	}
}
