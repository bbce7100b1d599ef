package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// SecretCase is one request that carries a secret (plugin/input/testdata/
// secrets.json): the canary must appear in nothing dockward writes, and
// every Keep string must stay in the input document (names, keys, and the
// facts rules read).
type SecretCase struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	URI     string            `json:"uri"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	Canary  string            `json:"canary"`
	Keep    []string          `json:"keep"`
	Error   string            `json:"error"` // the request is refused with this, before any input
}

// Request is the case as dockerd forwards it to the plugin.
func (c SecretCase) Request() authorization.Request {
	h := map[string]string{}
	if len(c.Body) > 0 {
		h["Content-Type"] = "application/json"
	}
	for k, v := range c.Headers {
		h[k] = v
	}
	return authorization.Request{RequestMethod: c.Method, RequestURI: c.URI, RequestHeaders: h, RequestBody: c.Body}
}

// SecretCases loads the corpus.
func SecretCases(t testing.TB) []SecretCase {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "input", "testdata", "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []SecretCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("secrets.json: %v", err)
	}
	return cases
}

// SecretVolumes and SecretContainers are what the daemon holds for the
// corpus: a CIFS volume and a container mounting one, both with passwords
// (an input.StaticLookup's Volumes and Containers).
var (
	SecretVolumes = map[string]map[string]string{
		"cifsvol": {"type": "cifs", "device": "//fs/share", "o": "username=u,password=canary-volume-lookup-5"},
	}
	SecretContainers = map[string]container.CreateRequest{
		// the container an old-API start names (a start is judged on the
		// stored container, and its body's secrets must not leak either)
		"web": {Config: &container.Config{Image: "busybox", User: "1000"}, HostConfig: &container.HostConfig{}},
		"cifsuser": {Config: &container.Config{Image: "busybox", User: "1000", Env: []string{"PEER=canary-peer-6"}},
			HostConfig: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "share", Target: "/m",
				VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "local",
					Options: map[string]string{"type": "cifs", "o": "password=canary-peer-6"}}}}},
				LogConfig: container.LogConfig{Type: "splunk", Config: map[string]string{"splunk-token": "canary-peer-6"}}}},
	}
)
