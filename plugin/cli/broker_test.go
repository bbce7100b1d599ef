package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIdentityInitAndBroker: identity init makes the PKI and prints the
// daemon.json settings; the broker refuses to start on a readable CA key,
// starts on a good one, serves its socket 0660, and answers a caller with
// a 502 when dockerd is not there (never a fallback).
func TestIdentityInitAndBroker(t *testing.T) {
	dir, err := os.MkdirTemp("", "dw-cli-id-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	pkiDir := filepath.Join(dir, "pki")
	cfg := filepath.Join(dir, "c.yaml")
	// The file's identity block is read; a flag overrides it.
	os.WriteFile(cfg, []byte("identity:\n  pki_dir: "+pkiDir+"\n  upstream: tcp://127.0.0.1:1\n"), 0o644)
	out, err := run(t, t.Context(), "identity", "init", "--config", cfg, "--raw-socket", "/run/x/root.sock")
	if err != nil {
		t.Fatalf("identity init: %v\n%s", err, out)
	}
	for _, want := range []string{"CA created", "server certificate for 127.0.0.1 created", `"unix:///run/x/root.sock"`, `"tcp://127.0.0.1:1"`, `"tlsverify": true`, filepath.Join(pkiDir, "ca.pem")} {
		if !strings.Contains(out, want) {
			t.Errorf("identity init output lacks %q:\n%s", want, out)
		}
	}
	out, _ = run(t, t.Context(), "identity", "init", "--config", cfg)
	if !strings.Contains(out, "CA loaded") || !strings.Contains(out, "server certificate for 127.0.0.1 kept") {
		t.Errorf("second init:\n%s", out)
	}

	sock := filepath.Join(dir, "docker.sock")
	group := groupName(t)
	args := []string{"broker", "--config", cfg, "--socket", sock, "--socket-group", group}
	os.Chmod(filepath.Join(pkiDir, "ca-key.pem"), 0o640)
	if _, err := run(t, t.Context(), args...); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("broker with a readable CA key: %v", err)
	}
	os.Chmod(filepath.Join(pkiDir, "ca-key.pem"), 0o600)
	if _, err := run(t, t.Context(), append(args, "--socket-group", "no-such-group-dw")...); err == nil || !strings.Contains(err.Error(), "socket group") {
		t.Fatalf("broker with an unknown group: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := run(t, ctx, args...); done <- err }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, err := os.Stat(sock); err == nil && st.Mode().Type() == os.ModeSocket {
			if st.Mode().Perm() != 0o660 {
				t.Errorf("socket mode %04o, want 0660", st.Mode().Perm())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no broker socket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := c.Get("http://docker/_ping")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Message string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body.Message, "cannot reach dockerd at 127.0.0.1:1") {
		t.Errorf("with dockerd down: %d %q", resp.StatusCode, body.Message)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("broker stop: %v", err)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("the socket is left after the broker stopped")
	}
}

// groupName is the name of this process's group.
func groupName(t *testing.T) string {
	t.Helper()
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Fatal(err)
	}
	return g.Name
}

// TestDaemonConfigIdentity: enable --identity merges the identity settings
// with the plugin; disable --identity takes out only them; disable takes
// out both; --keep-identity keeps them.
func TestDaemonConfigIdentity(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("identity:\n  pki_dir: "+dir+"/pki\n"), 0o644)
	file := filepath.Join(dir, "daemon.json")
	read := func() map[string]any {
		b, _ := os.ReadFile(file)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	dc := func(args ...string) {
		t.Helper()
		if out, err := run(t, t.Context(), append([]string{"daemon-config", "--config", cfg, "--file", file}, args...)...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	steps := []struct {
		args             []string
		plugin, identity bool
	}{
		{[]string{"enable", "--identity"}, true, true},
		{[]string{"disable", "--identity"}, true, false},
		{[]string{"enable", "--identity"}, true, true},
		{[]string{"disable", "--keep-identity"}, false, true},
		{[]string{"enable"}, true, true},
		{[]string{"disable"}, false, false},
	}
	for _, s := range steps {
		dc(s.args...)
		m := read()
		_, plugin := m["authorization-plugins"]
		identity := m["tlscacert"] == dir+"/pki/ca.pem" && m["tlsverify"] == true && m["hosts"] != nil
		if plugin != s.plugin || identity != s.identity {
			t.Fatalf("after %v: plugin %v identity %v, want %v %v: %v", s.args, plugin, identity, s.plugin, s.identity, m)
		}
	}
	if _, err := run(t, t.Context(), "daemon-config", "--config", cfg, "--file", file, "disable", "--identity", "--keep-identity"); err == nil {
		t.Error("--identity with --keep-identity accepted")
	}
}
