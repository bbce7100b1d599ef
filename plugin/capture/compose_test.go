package capture

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFakeDaemon: the capture daemon answers Compose's reads like a daemon
// on which the project does not exist, finds what Compose created, and
// records every write exactly as dockerd forwards it to a plugin.
func TestFakeDaemon(t *testing.T) {
	t.Parallel()
	fd, err := newFakeDaemon("1.51", "unix:///nonexistent/docker.sock") // unreachable: as no daemon
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string) (int, string) {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		fd.ServeHTTP(w, r)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	steps := []struct {
		name, method, path, body string
		code                     int
		want                     string // a substring of the answer
	}{
		{"nothing exists: no network", "GET", "/v1.51/networks/shop_default", "", 404, "No such object"},
		{"nothing exists: the list is empty", "GET", "/v1.51/networks?filters=%7B%22name%22%3A%7B%22shop_default%22%3Atrue%7D%7D", "", 200, "[]"},
		{"no volume", "GET", "/v1.51/volumes/shop_data", "", 404, ""},
		{"no container of the project", "GET", `/v1.51/containers/json?all=1&filters={"label":{"com.docker.compose.project=shop":true}}`, "", 200, "[]"},
		{"no image: Compose will pull it", "GET", "/v1.51/images/busybox:1.36/json", "", 404, ""},
		{"network create", "POST", "/v1.51/networks/create", `{"Name":"shop_default","Labels":{"com.docker.compose.network":"default"}}`, 201, `"Id":`},
		{"the network is found by name", "GET", "/v1.51/networks/shop_default", "", 200, `"Driver":"bridge"`},
		{"and listed by name", "GET", `/v1.51/networks?filters={"name":{"shop_default":true}}`, "", 200, `"Name":"shop_default"`},
		{"volume create", "POST", "/v1.51/volumes/create", `{"Name":"shop_data","Driver":""}`, 201, `"Driver":"local"`},
		{"the volume is found", "GET", "/v1.51/volumes/shop_data", "", 200, `"Name":"shop_data"`},
		{"container create", "POST", "/v1.51/containers/create?name=shop-web-1",
			`{"Image":"busybox","Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"web"},"HostConfig":{"ReadonlyRootfs":true},"NetworkingConfig":{"EndpointsConfig":{"shop_default":{}}}}`,
			201, `"Id":`},
		{"inspected by name", "GET", "/v1.51/containers/shop-web-1/json", "", 200, `"com.docker.compose.service":"web"`},
		{"listed by project label", "GET", `/v1.51/containers/json?all=1&filters={"label":{"com.docker.compose.project=shop":true}}`, "", 200, `"Names":["/shop-web-1"]`},
		{"not listed for another service", "GET", `/v1.51/containers/json?filters={"label":{"com.docker.compose.service=db":true}}`, "", 200, "[]"},
		{"a pull is answered", "POST", "/v1.51/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=3", "", 200, "not pulled"},
		{"the pulled image exists, however it is spelt", "GET", "/v1.51/images/alpine:3/json", "", 200, `"RepoTags":["alpine:3"]`},
		{"only the tag pulled", "GET", "/v1.51/images/alpine:4/json", "", 404, ""},
		{"a start is answered", "POST", "/v1.51/containers/shop-web-1/start", "", 204, ""},
	}
	for _, s := range steps {
		code, body := do(s.method, s.path, s.body)
		if code != s.code || !strings.Contains(body, s.want) {
			t.Errorf("%s: %s %s = %d %s, want %d with %q", s.name, s.method, s.path, code, body, s.code, s.want)
		}
	}
	reqs := fd.writes()
	var got []string
	for _, r := range reqs {
		got = append(got, r.RequestMethod+" "+r.RequestURI)
	}
	want := []string{"POST /v1.51/networks/create", "POST /v1.51/volumes/create", "POST /v1.51/containers/create?name=shop-web-1",
		"POST /v1.51/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=3", "POST /v1.51/containers/shop-web-1/start"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("recorded writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[2].RequestBody, &body); err != nil || body["Image"] != "busybox" || reqs[2].RequestHeaders["Content-Type"] != "application/json" {
		t.Errorf("the create is not recorded as sent: %v %s %v", err, reqs[2].RequestBody, reqs[2].RequestHeaders)
	}
	if reqs[4].RequestBody != nil {
		t.Errorf("a start without a JSON body carries one: %q", reqs[4].RequestBody)
	}
}

// TestFakeDaemonUpstream: with a daemon to ask, images and external
// networks are the daemon's; what the project creates stays here.
func TestFakeDaemonUpstream(t *testing.T) {
	t.Parallel()
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("a %s reached the daemon: %s", r.Method, r.URL)
		}
		switch r.URL.Path {
		case "/v1.51/networks/ext":
			writeJSON(w, 200, map[string]any{"Name": "ext", "Id": "e1", "Driver": "bridge"})
		case "/v1.51/images/busybox/json":
			writeJSON(w, 200, map[string]any{"Id": "sha256:real", "RepoTags": []string{"busybox:latest"}})
		default:
			writeJSON(w, 404, map[string]string{"message": "no"})
		}
	}))
	sock := t.TempDir() + "/d.sock"
	l, err := netListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	up.Listener = l
	up.Start()
	defer up.Close()
	fd, err := newFakeDaemon("1.51", "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/v1.51/networks/ext", `"Id":"e1"`},
		{"/v1.51/images/busybox/json", `"sha256:real"`},
		{"/v1.51/images/not-here/json", `"message":"no"`}, // the daemon lacks it: Compose pulls it
	} {
		w := httptest.NewRecorder()
		fd.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("GET %s = %d %s, want %q", tc.path, w.Code, w.Body, tc.want)
		}
	}
	w := httptest.NewRecorder()
	fd.ServeHTTP(w, httptest.NewRequest("POST", "/v1.51/networks/create", strings.NewReader(`{"Name":"p_default"}`)))
	if w.Code != 201 {
		t.Errorf("network create = %d", w.Code)
	}
}

func TestComposeMissing(t *testing.T) {
	t.Parallel()
	_, err := Compose(t.Context(), ComposeOptions{Command: []string{"/nonexistent/docker-compose"}})
	if !errors.Is(err, ErrComposeMissing) {
		t.Fatalf("err = %v, want ErrComposeMissing", err)
	}
}

func netListenUnix(path string) (net.Listener, error) { return net.Listen("unix", path) }
