package daemonconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestEnableDisable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		initial string // "" = no file
		enable  bool
		want    map[string]any
		changed bool
	}{
		{"creates the file", "", true, map[string]any{Key: []any{"dockward"}}, true},
		{"keeps other settings", `{"log-level":"warn","debug":true}`, true,
			map[string]any{"log-level": "warn", "debug": true, Key: []any{"dockward"}}, true},
		{"appends after other plugins", `{"authorization-plugins":["opa"]}`, true, map[string]any{Key: []any{"opa", "dockward"}}, true},
		{"idempotent", `{"authorization-plugins":["dockward"]}`, true, map[string]any{Key: []any{"dockward"}}, false},
		{"disable keeps other plugins", `{"authorization-plugins":["opa","dockward"],"x":1}`, false,
			map[string]any{Key: []any{"opa"}, "x": float64(1)}, true},
		{"disable drops an emptied key", `{"authorization-plugins":["dockward"],"x":1}`, false, map[string]any{"x": float64(1)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "daemon.json")
			if tt.initial != "" {
				if err := os.WriteFile(path, []byte(tt.initial), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			op := Disable
			if tt.enable {
				op = Enable
			}
			changed, err := op(path, "dockward")
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			b, _ := os.ReadFile(path)
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("result is not JSON: %s", b)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("daemon.json = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInvalidFileUntouched(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(path, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Enable(path, "dockward"); err == nil {
		t.Fatal("enabled into an invalid file")
	}
	if b, _ := os.ReadFile(path); string(b) != "{broken" {
		t.Fatalf("file changed: %s", b)
	}
}
