package daemonconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestIdentity(t *testing.T) {
	t.Parallel()
	id := Identity{RawSocket: "/run/dockward/docker-root.sock", Upstream: "tcp://127.0.0.1:2376", PKIDir: "/etc/dockward/identity"}
	ours := map[string]any{
		"hosts": []any{"unix:///run/dockward/docker-root.sock", "tcp://127.0.0.1:2376"}, "tlsverify": true,
		"tlscacert": "/etc/dockward/identity/ca.pem", "tlscert": "/etc/dockward/identity/server-cert.pem",
		"tlskey": "/etc/dockward/identity/server-key.pem", "group": "root",
	}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range ours {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	oursJSON, _ := json.Marshal(with(map[string]any{"log-level": "warn", Key: []any{"dockward"}}))
	tests := []struct {
		name    string
		initial string
		enable  bool
		want    map[string]any
		changed bool
		err     string
	}{
		{"enable keeps other settings", `{"log-level":"warn","authorization-plugins":["dockward"]}`, true,
			with(map[string]any{"log-level": "warn", Key: []any{"dockward"}}), true, ""},
		{"enable is idempotent", string(oursJSON), true, with(map[string]any{"log-level": "warn", Key: []any{"dockward"}}), false, ""},
		{"enable refuses the operator's hosts", `{"hosts":["fd://"]}`, true, map[string]any{"hosts": []any{"fd://"}}, false, `already sets "hosts"`},
		{"enable refuses the operator's TLS", `{"tlscacert":"/etc/docker/ca.pem"}`, true, map[string]any{"tlscacert": "/etc/docker/ca.pem"}, false, `already sets "tlscacert"`},
		{"disable takes ours out, keeps the rest", string(oursJSON), false, map[string]any{"log-level": "warn", Key: []any{"dockward"}}, true, ""},
		{"disable leaves the operator's TLS alone", `{"hosts":["tcp://0.0.0.0:2376"],"tlsverify":true,"tlscacert":"/etc/docker/ca.pem"}`, false,
			map[string]any{"hosts": []any{"tcp://0.0.0.0:2376"}, "tlsverify": true, "tlscacert": "/etc/docker/ca.pem"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "daemon.json")
			if err := os.WriteFile(path, []byte(tt.initial), 0o644); err != nil {
				t.Fatal(err)
			}
			var changed bool
			var err error
			if tt.enable {
				changed, err = EnableIdentity(path, id)
			} else {
				changed, err = DisableIdentity(path, id.PKIDir)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			b, _ := os.ReadFile(path)
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("daemon.json:\n got  %v\n want %v", got, tt.want)
			}
			has, err := HasIdentity(path, id.PKIDir)
			if err != nil || has != (tt.enable && tt.err == "") {
				t.Errorf("HasIdentity = %v %v", has, err)
			}
		})
	}
}
