//go:build e2e

package e2e

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReadCallsAreAllowed: the restricted profile never gets in the way of
// looking at things.
func TestReadCallsAreAllowed(t *testing.T) {
	hs := env(t)
	since := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	name := "dw-read-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	create := append(append([]string{"create", "--name", name}, hardened...), testImage, "echo", "hello")
	hs.mustDocker(t, create...)
	t.Cleanup(func() {
		if r := hs.docker(t, "rm", "-f", name); r.code != 0 {
			t.Errorf("cannot remove the test container:\n%v", r)
		}
	})
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)

	tests := []struct {
		name string
		args []string
		want string // in stdout
	}{
		{"ps", []string{"ps", "-a"}, name},
		{"images", []string{"images"}, "dockward-test"},
		{"inspect container", []string{"inspect", "--format", "{{.Config.User}}", name}, "1000:1000"},
		{"inspect image", []string{"image", "inspect", testImage}, "sha256:"},
		{"logs", []string{"logs", name}, ""},
		{"version", []string{"version", "--format", "{{.Server.APIVersion}}"}, "1."},
		{"info", []string{"info", "--format", "{{.ID}}"}, ""},
		{"events", []string{"events", "--since", since, "--until", until}, "create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hs.docker(t, tt.args...)
			if r.code != 0 {
				t.Fatalf("a read call was refused:\n%v", r)
			}
			if !strings.Contains(r.stdout, tt.want) {
				t.Errorf("stdout lacks %q:\n%v", tt.want, r)
			}
		})
	}

	for _, path := range []string{"/_ping", "/v1.41/_ping"} {
		t.Run("GET "+path, func(t *testing.T) {
			resp, err := hs.apiClient().Get("http://docker" + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != "OK" {
				t.Errorf("GET %s: %d %q, want 200 \"OK\"", path, resp.StatusCode, body)
			}
		})
	}
}
