package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeWithCorruptOwnerStore: a store that does not open does not stop
// the plugin (refusing would refuse every Docker call on the host): it
// serves, a request that needs an owner is a plugin failure naming the
// file, and one that does not is decided as ever. Its control socket is
// 0600, and dockward own reaches it.
func TestServeWithCorruptOwnerStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock, ctl, db := filepath.Join(dir, "p.sock"), filepath.Join(dir, "control.sock"), filepath.Join(dir, "owners.db")
	if err := os.WriteFile(db, []byte("garbage, not a bbolt file: someone edited it by hand and broke it beyond repair"), 0o600); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../../policies")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := run(t, ctx, "serve", "--socket", sock, "--policy-dir", abs, "--audit-log", filepath.Join(dir, "a.log"),
			"--owner-db", db, "--control-socket", ctl, "--docker-host", "unix://"+filepath.Join(dir, "none.sock"), "--log-level", "error")
		done <- err
	}()
	defer func() { cancel(); <-done }()
	waitUntil(t, 10*time.Second, "plugin socket", func() bool { _, err := os.Stat(sock); return err == nil })
	waitUntil(t, 10*time.Second, "control socket", func() bool { _, err := os.Stat(ctl); return err == nil })
	if info, err := os.Stat(ctl); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode: %v %v", info, err)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	ask := func(user, method, uri, body string) map[string]any {
		req := map[string]any{"User": user, "UserAuthNMethod": "TLS", "RequestMethod": method, "RequestUri": uri}
		if body != "" {
			req["RequestBody"] = []byte(body)
			req["RequestHeaders"] = map[string]string{"Content-Type": "application/json"}
		}
		b, _ := json.Marshal(req)
		res, err := hc.Post("http://plugin/AuthZPlugin.AuthZReq", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// alice's volume create: its owner could not be recorded, so it is
	// refused now, naming the store; anonymous, it is decided as ever.
	r := ask("alice", "POST", "/v1.41/volumes/create", `{"Name":"data"}`)
	if r["Allow"] == true || !strings.Contains(r["Err"].(string), db) || !strings.Contains(r["Err"].(string), "move the file aside") {
		t.Errorf("alice's volume create with a corrupt store: %v", r)
	}
	if r := ask("", "POST", "/v1.41/volumes/create", `{"Name":"data"}`); r["Allow"] != true {
		t.Errorf("anonymous volume create with a corrupt store: %v", r)
	}
	if r := ask("alice", "GET", "/v1.41/containers/json", ""); r["Allow"] != true {
		t.Errorf("docker ps with a corrupt store: %v", r)
	}
	// dockward own reaches the control socket (and reports the store).
	out, err := run(t, t.Context(), "own", "volume", "data", "--control-socket", ctl)
	if err == nil {
		t.Errorf("own with a corrupt store and no daemon succeeded: %s", out)
	}
	if err != nil && strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("own did not reach the control socket: %v", err)
	}
}
