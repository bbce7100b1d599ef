package authz

import (
	"strings"
	"testing"

	"github.com/dockward/dockward/plugin/input"
)

// TestComposeDenial: a create that carries Compose's labels is answered
// with the project and service named and every fix as a Compose key, and
// its audit record names them; the same create without the labels keeps
// the docker run flags and no compose keys in the record.
func TestComposeDenial(t *testing.T) {
	t.Parallel()
	h := newHarness(t, library, input.Builder{}, Options{})
	labels := `"Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"web","com.docker.compose.oneoff":"False"},`
	tests := []struct {
		name   string
		body   string
		want   []string
		not    []string
		record map[string]any // keys the audit record must (value) or must not (nil) have
	}{
		{"compose", `{"Image":"busybox",` + labels + `"Env":["API_TOKEN=compose-secret"],"HostConfig":{"Privileged":true}}`,
			[]string{"policy violations in Compose service web (project shop):", "[no_privileged] container is privileged — fix: remove privileged: true",
				"[read_only_rootfs] root filesystem is writable — fix: set read_only: true on the service"},
			[]string{"--read-only", "--privileged", "compose-secret"},
			map[string]any{"compose_project": "shop", "compose_service": "web"}},
		{"a volume Compose creates", `{"Name":"shop_data","Labels":{"com.docker.compose.project":"shop","com.docker.compose.volume":"data"},"DriverOpts":{"o":"bind","device":"/etc","type":"none"}}`,
			[]string{"1 policy violation in Compose volume data (project shop):", "[volume_host_path]", "— fix: remove driver_opts device and o: bind from the volume in volumes:"},
			[]string{"--opt"}, map[string]any{"compose_project": "shop", "compose_object": "volume data", "compose_service": nil}},
		{"a project label alone is not Compose", `{"Image":"busybox","Labels":{"com.docker.compose.project":"shop"},"HostConfig":{"Privileged":true}}`,
			[]string{"[read_only_rootfs] root filesystem is writable — fix: add --read-only"}, []string{"Compose service"},
			map[string]any{"compose_project": nil, "compose_service": nil}},
		{"plain docker run", `{"Image":"busybox","HostConfig":{"Privileged":true}}`,
			[]string{"[no_privileged] container is privileged — fix: remove --privileged", "[cpu_limit] no CPU limit is set — fix: add --cpus 1 (at most 4)"},
			[]string{"Compose", "set read_only"}, map[string]any{"compose_project": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := create(tt.body)
			if strings.Contains(tt.body, `"DriverOpts"`) {
				req.RequestURI = "/v1.41/volumes/create"
			}
			res := h.plugin.AuthZReq(req)
			if res.Allow || res.Err != "" {
				t.Fatalf("response %+v, want a denial", res)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Msg, w) {
					t.Errorf("message lacks %q:\n%s", w, res.Msg)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(res.Msg, n) {
					t.Errorf("message has %q:\n%s", n, res.Msg)
				}
			}
			lines := h.auditLines(t)
			rec := lines[len(lines)-1]
			for k, v := range tt.record {
				if got, ok := rec[k]; (v == nil && ok) || (v != nil && got != v) {
					t.Errorf("audit %s = %v, want %v", k, got, v)
				}
			}
		})
	}
}
