package route

import (
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, uri       string
		path, version, endpoint string
		id                      string
		write                   bool
	}{
		{"plain create", "POST", "/containers/create", "/containers/create", "", "container.create", "", true},
		{"versioned create", "post", "/v1.41/containers/create?name=web", "/containers/create", "1.41", "container.create", "", true},
		{"percent-encoded letter (B5)", "POST", "/v1.47/containers/%63reate", "/containers/create", "1.47", "container.create", "", true},
		{"encoded slash (B5)", "POST", "/containers%2Fcreate", "/containers/create", "", "container.create", "", true},
		{"double slash (B5)", "POST", "//containers//create", "/containers/create", "", "container.create", "", true},
		{"dot segment (B5)", "POST", "/v1.41/./containers/./create/", "/containers/create", "1.41", "container.create", "", true},
		{"dot-dot (B5)", "POST", "/v1.41/images/../containers/create", "/containers/create", "1.41", "container.create", "", true},
		{"dot-dot over version", "POST", "/v1.41/../containers/create", "/containers/create", "", "container.create", "", true},
		{"encoded version prefix", "POST", "/%761.41/containers/create", "/containers/create", "1.41", "container.create", "", true},
		{"absolute-form URI", "POST", "http://docker/v1.41/containers/create", "/containers/create", "1.41", "container.create", "", true},
		{"exec with id", "POST", "/v1.41/containers/abc123/exec", "/containers/abc123/exec", "1.41", "container.exec", "abc123", true},
		{"start", "POST", "/containers/web/start", "/containers/web/start", "", "container.start", "web", true},
		{"image with registry and slashes", "GET", "/v1.41/images/reg.io:5000/team/app/json", "/images/reg.io:5000/team/app/json", "1.41", "image.inspect", "reg.io:5000/team/app", false},
		{"images list is not an image named json", "GET", "/images/json", "/images/json", "", "image.list", "", false},
		{"tag", "POST", "/images/busybox/tag?repo=x", "/images/busybox/tag", "", "image.tag", "busybox", true},
		{"plugin disable", "POST", "/v1.41/plugins/dockward:latest/disable", "/plugins/dockward:latest/disable", "1.41", "plugin.disable", "dockward:latest", true},
		{"ping", "HEAD", "/_ping", "/_ping", "", "system.ping", "", false},
		{"version root", "GET", "/v1.41", "/", "1.41", "", "", false},
		{"unknown write", "POST", "/containers/abc/frobnicate", "/containers/abc/frobnicate", "", "", "", true},
		{"method mismatch", "GET", "/containers/create", "/containers/create", "", "", "", false},
		{"delete container", "DELETE", "/v1.41/containers/abc?force=1", "/containers/abc", "1.41", "container.delete", "abc", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tt.method, tt.uri)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.uri, err)
			}
			if r.Path != tt.path || r.APIVersion != tt.version || r.Endpoint != tt.endpoint || r.ID != tt.id || r.Write() != tt.write {
				t.Errorf("Parse(%q, %q) = path %q version %q endpoint %q id %q write %v; want %q %q %q %q %v",
					tt.method, tt.uri, r.Path, r.APIVersion, r.Endpoint, r.ID, r.Write(),
					tt.path, tt.version, tt.endpoint, tt.id, tt.write)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	r, err := Parse("POST", "/v1.41/containers/create?name=w%65b&platform=")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Query.Get("name"); got != "web" {
		t.Errorf("name = %q, want web", got)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{"", "containers/create", "/containers/%zzcreate", "/containers/create?name=%zz"} {
		if _, err := Parse("POST", uri); err == nil {
			t.Errorf("Parse(%q) succeeded; want an error so the request is denied", uri)
		}
	}
}
