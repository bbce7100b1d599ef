package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/canary"
	"github.com/dockward/dockward/plugin/config"
)

// TestMain doubles as the probe child: the caller check runs this test
// binary as another user with "probe-child --docker-host H".
func TestMain(m *testing.M) {
	if len(os.Args) > 3 && os.Args[1] == "probe-child" && os.Args[2] == "--docker-host" {
		c, err := canary.NewClient(os.Args[3], 5*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		_ = json.NewEncoder(os.Stdout).Encode(canary.Send(context.Background(), c))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPickUser(t *testing.T) {
	dir := t.TempDir()
	group := filepath.Join(dir, "group")
	if err := os.WriteFile(group, []byte("root:x:0:\ndocker:x:105:root,alice,bob\nci:x:1001:carol\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SUDO_USER", "")
	if u, from := pickUser("", group); u != "alice" || from != "the docker group" {
		t.Errorf("from the group: %s %s", u, from)
	}
	t.Setenv("SUDO_USER", "dave")
	if u, _ := pickUser("", group); u != "dave" {
		t.Errorf("sudo user: %s", u)
	}
	if u, _ := pickUser("erin", group); u != "erin" {
		t.Errorf("--as-user: %s", u)
	}
	t.Setenv("SUDO_USER", "root")
	if u, _ := pickUser("", filepath.Join(dir, "none")); u != "" {
		t.Errorf("nobody to pick: %s", u)
	}
}

// fakeBroker stands for the broker and dockerd with the plugin behind it:
// it reads the caller's uid from the kernel (SO_PEERCRED), denies the
// canary with a decision id, and writes that decision's audit record under
// the caller's name (or no name, or another's).
func fakeBroker(t *testing.T, audit string, name func(peer string) string) string {
	t.Helper()
	dir := t.TempDir()
	// The caller is not root: it must reach the socket.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	sock := filepath.Join(dir, "broker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(sock, 0o666)
	var n atomic.Int64
	type key struct{}
	srv := &http.Server{
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, key{}, c) },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			uc := r.Context().Value(key{}).(*net.UnixConn)
			raw, _ := uc.SyscallConn()
			var peer string
			_ = raw.Control(func(fd uintptr) {
				if cred, err := getPeerUID(int(fd)); err == nil {
					if u, err := user.LookupId(strconv.Itoa(cred)); err == nil {
						peer = u.Username
					}
				}
			})
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1))
			rec, _ := json.Marshal(map[string]any{"decision_id": id, "decision": "deny", "user": name(peer), "endpoint": "container.create"})
			f, err := os.OpenFile(audit, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				_, _ = f.Write(append(rec, '\n'))
				f.Close()
			}
			w.WriteHeader(403)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": "authorization denied by plugin dockward: 1 policy violation\n(dockward decision " + id + "; an operator can look it up in the audit log)"})
		}),
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

// The caller check runs a child as a non-root user (nobody) through the
// broker socket and finds the decision's audit record under that name. The
// child is /proc/self/exe, as in dockward: the test binary sits in a 0700
// build directory that nobody cannot search, which the magic link skips.
func TestCheckCaller(t *testing.T) {
	t.Parallel()
	if _, err := user.Lookup("nobody"); err != nil {
		t.Fatalf("the test needs the nobody user: %v", err)
	}
	root := os.Geteuid() == 0
	tests := []struct {
		name   string
		seenAs func(peer string) string
		want   Status
		detail string
	}{
		{"seen under their own name", func(p string) string { return p }, OK, `audited as user "nobody"`},
		{"no identity", func(string) string { return "" }, Fail, "audited with no user"},
		{"another name", func(string) string { return "mallory" }, Fail, `audited as user "mallory"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			audit := filepath.Join(t.TempDir(), "audit.log")
			sock := fakeBroker(t, audit, tt.seenAs)
			o := Options{PluginName: "dockward", AuditLog: audit, AsUser: "nobody",
				Identity: &config.Identity{Socket: sock}, ExeArgs: []string{"probe-child"}}
			o.defaults()
			r := checkCaller(t.Context(), &env{opts: o})
			if !root {
				// Only root can run a child as another user.
				if r.Status != Fail || !strings.Contains(r.Detail, "operation not permitted") {
					t.Fatalf("as non-root: %+v", r)
				}
				return
			}
			if r.Status != tt.want || !strings.Contains(r.Detail, tt.detail) || (r.Status == Fail && r.Fix == "") {
				t.Fatalf("%+v, want %s with %q", r, tt.want, tt.detail)
			}
		})
	}
	o := Options{AsUser: "root", Identity: &config.Identity{Socket: "/x"}}
	o.defaults()
	if r := checkCaller(t.Context(), &env{opts: o}); r.Status != Fail || !strings.Contains(r.Detail, "is root") {
		t.Errorf("root as the caller: %+v", r)
	}
}
