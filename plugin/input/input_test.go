package input

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

func createReq(body string) authorization.Request {
	return authorization.Request{
		RequestMethod:  "POST",
		RequestURI:     "/v1.41/containers/create?name=web",
		RequestHeaders: map[string]string{"Content-Type": "application/json"},
		RequestBody:    []byte(body),
	}
}

// testLookup is the daemon the input tests talk to: image "b" runs as
// root (no USER), "app-image" as uid 1000.
var testLookup = StaticLookup{
	Images: map[string]ImageInfo{
		"b":         {ID: "sha256:b"},
		"busybox":   {ID: "sha256:bb"},
		"app-image": {ID: "sha256:app", User: "1000"},
	},
}

func testBuilder() Builder { return Builder{Lookup: testLookup} }

func mustBuild(t *testing.T, req authorization.Request) *Input {
	t.Helper()
	in, err := testBuilder().Build(t.Context(), req)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return in
}

// TestBuildDenies lists requests that must never reach the policy: each is
// denied with a reason (fail closed).
func TestBuildDenies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  authorization.Request
		want string
	}{
		{"empty create body (CVE-2024-41110)", createReq(""), "without a JSON body"},
		{"whitespace create body", createReq(" \n"), "without a JSON body"},
		{"not JSON", createReq("Image=busybox"), "not a JSON object"},
		{"JSON array", createReq(`[{"Image":"busybox"}]`), "not a JSON object"},
		{"truncated JSON", createReq(`{"Image":"busybox","HostConfig":{`), "not a JSON object"},
		{"wrong type", createReq(`{"Image":"busybox","HostConfig":{"Privileged":"yes"}}`), "cannot be decoded"},
		{"legacy top-level HostConfig field (B4)", createReq(`{"Image":"busybox","Privileged":true}`), "top level (Privileged)"},
		{"legacy top-level field, other case (B4)", createReq(`{"Image":"busybox","bInDs":["/:/h"]}`), "top level (bInDs)"},
		{"legacy top-level Resources field (B4)", createReq(`{"Image":"busybox","HostConfig":{},"Memory":1}`), "top level (Memory)"},
		{"legacy Cpuset (B4)", createReq(`{"Image":"busybox","Cpuset":"0"}`), "top level (Cpuset)"},
		{"form body on build (parameters hidden from plugins)", authorization.Request{RequestMethod: "POST", RequestURI: "/v1.41/build",
			RequestHeaders: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, "form-encoded body"},
		{"multipart body", authorization.Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/x/kill",
			RequestHeaders: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}}, "form-encoded body"},
		{"unparsable bind", createReq(`{"Image":"b","HostConfig":{"Binds":["/a:/b:ro:x"]}}`), "cannot parse bind"},
		{"oversized body", createReq(`{"Image":"` + strings.Repeat("a", MaxBody) + `"}`), "over the 1 MiB"},
		{"bad URI", authorization.Request{RequestMethod: "POST", RequestURI: "/containers/%zz"}, "cannot route"},
		{"invalid JSON on another endpoint", authorization.Request{RequestMethod: "POST", RequestURI: "/containers/x/kill",
			RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: []byte("{")}, "not valid JSON"},
		{"undecodable update body", authorization.Request{RequestMethod: "POST", RequestURI: "/containers/x/update",
			RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: []byte("{")}, "update body cannot be decoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := testBuilder().Build(t.Context(), tt.req)
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("Build err = %v, want an *input.Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestZeroRequest(t *testing.T) {
	t.Parallel()
	if _, err := (Builder{}).Build(t.Context(), authorization.Request{}); !errors.Is(err, ErrNoRequest) {
		t.Fatalf("Build(zero) err = %v, want ErrNoRequest", err)
	}
}

// TestDecodeLikeDockerd checks that the typed view is what dockerd's
// encoding/json decode produces, whatever the key case or duplication (B4).
func TestDecodeLikeDockerd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		check func(c *Container) bool
	}{
		{"lower-case keys", `{"image":"b","hostconfig":{"privileged":true}}`, func(c *Container) bool { return c.Privileged }},
		{"upper-case keys", `{"IMAGE":"b","HOSTCONFIG":{"PRIVILEGED":true}}`, func(c *Container) bool { return c.Privileged && c.Image == "b" }},
		{"Kelvin-sign key folds like encoding/json", "{\"Image\":\"b\",\"HostConfig\":{\"Oom\u212aillDisable\":true}}",
			func(c *Container) bool { return c.Resources.OomKillDisable != nil && *c.Resources.OomKillDisable }},
		// encoding/json decodes a repeated object key into the same struct,
		// so the two HostConfig objects merge field by field: exactly what
		// dockerd gets from the same decoder.
		{"duplicate HostConfig: merged, later fields win", `{"Image":"b","HostConfig":{"ReadonlyRootfs":true,"Privileged":false},"HostConfig":{"Privileged":true}}`,
			func(c *Container) bool { return c.Privileged && c.ReadOnly }},
		{"duplicate key, different case: last wins", `{"Image":"b","HostConfig":{"Privileged":false,"privileged":true}}`,
			func(c *Container) bool { return c.Privileged }},
		{"null HostConfig is an empty one", `{"Image":"b","HostConfig":null}`, func(c *Container) bool { return !c.ReadOnly && len(c.Mounts) == 0 }},
		{"trailing data ignored, as the daemon's Decoder does", `{"Image":"b","HostConfig":{"Privileged":true}} {"x":1}`,
			func(c *Container) bool { return c.Privileged }},
		{"systempaths=unconfined arrives as empty lists (B13)", `{"Image":"b","HostConfig":{"MaskedPaths":[],"ReadonlyPaths":[]}}`,
			func(c *Container) bool { return c.MaskedPathsSet && c.ReadonlyPathsSet }},
		{"null masked paths mean the default", `{"Image":"b","HostConfig":{"MaskedPaths":null}}`,
			func(c *Container) bool { return !c.MaskedPathsSet }},
		{"caps normalized", `{"Image":"b","HostConfig":{"CapDrop":["all"],"CapAdd":["cap_net_raw","NET_RAW","Cap_Sys_Admin"]}}`,
			func(c *Container) bool {
				return reflect.DeepEqual(c.CapDrop, []string{"ALL"}) && reflect.DeepEqual(c.CapAdd, []string{"NET_RAW", "SYS_ADMIN"})
			}},
		{"pids limit absent is null", `{"Image":"b"}`, func(c *Container) bool { return c.Resources.PidsLimit == nil }},
		{"ports: empty host IP is all interfaces", `{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"},{"HostIp":"127.0.0.2","HostPort":"81"},{"HostIp":"::1"}]}}}`,
			func(c *Container) bool {
				return len(c.Ports) == 3 && c.Ports[0].HostIP == "" && !c.Ports[0].Loopback &&
					c.Ports[1].HostIP == "127.0.0.2" && c.Ports[1].Loopback && c.Ports[2].HostIP == "::1" && c.Ports[2].Loopback
			}},
		// The daemon backfills an empty or null binding list with one
		// binding on all interfaces (issue 11 item 7).
		{"ports: an empty binding list publishes on all interfaces", `{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[]}}}`,
			func(c *Container) bool { return len(c.Ports) == 1 && c.Ports[0].HostIP == "" && !c.Ports[0].Loopback }},
		{"ports: a null binding list publishes on all interfaces", `{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":null,"81/udp":[{"HostIp":"127.0.0.1"}]}}}`,
			func(c *Container) bool {
				return len(c.Ports) == 2 && c.Ports[0].ContainerPort == "80/tcp" && !c.Ports[0].Loopback && c.Ports[1].Loopback
			}},
		{"annotations and ulimits are in the view", `{"Image":"b","HostConfig":{"Annotations":{"run.oci.x":"1"},"Ulimits":[{"Name":"memlock","Soft":-1,"Hard":-1},null]}}`,
			func(c *Container) bool {
				return c.Annotations["run.oci.x"] == "1" && len(c.Ulimits) == 1 && c.Ulimits[0] == Ulimit{"memlock", -1, -1}
			}},
		{"no annotations, no ulimits: empty, not null", `{"Image":"b"}`,
			func(c *Container) bool { return c.Annotations != nil && c.Ulimits != nil }},
		{"name from the query", `{"Image":"b"}`, func(c *Container) bool { return c.Name == "web" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := mustBuild(t, createReq(tt.body))
			if !tt.check(in.Container) {
				b, _ := json.MarshalIndent(in.Container, "", " ")
				t.Errorf("unexpected container view for %s:\n%s", tt.body, b)
			}
		})
	}
}

func TestParseUser(t *testing.T) {
	t.Parallel()
	zero, thousand := 0, 1000
	tests := []struct {
		raw, name, group string
		uid              *int
	}{
		{"", "", "", nil},
		{"0", "0", "", &zero},
		{"00", "00", "", &zero},
		{"+0", "+0", "", &zero},
		{"-0", "-0", "", &zero},
		{"0:1000", "0", "1000", &zero},
		{"1000:1000", "1000", "1000", &thousand},
		{"root:root", "root", "root", nil},
		{"app", "app", "", nil},
		{" 0", " 0", "", nil}, // Atoi rejects the space: a name, which the runtime looks up
	}
	for _, tt := range tests {
		u := parseUser(tt.raw)
		if u.Name != tt.name || u.Group != tt.group || !reflect.DeepEqual(u.UID, tt.uid) {
			t.Errorf("parseUser(%q) = %+v", tt.raw, u)
		}
	}
}

// TestVolumeHostPaths: what a local volume reaches when the daemon mounts
// it (issue 11 item 10).
func TestVolumeHostPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		driver string
		opts   map[string]string
		want   []string
	}{
		{"plain volume", "", nil, nil},
		{"size only", "local", map[string]string{"size": "1g"}, nil},
		{"bind", "local", map[string]string{"type": "none", "o": "bind", "device": "/etc/../etc"}, []string{"/etc"}},
		{"rbind of any type", "", map[string]string{"type": "tmpfs", "o": "size=1m,rbind", "device": "/"}, []string{"/"}},
		{"relative bind device: kept relative (unresolvable)", "", map[string]string{"type": "none", "o": "bind", "device": "etc"}, []string{"etc"}},
		{"block device", "", map[string]string{"type": "ext4", "device": "/dev/sda1"}, []string{"/dev/sda1"}},
		{"relative block device", "", map[string]string{"type": "ext4", "device": "sda1"}, []string{"sda1"}},
		{"unknown type: the device is a host path", "", map[string]string{"type": "sysfs", "device": "sysfs"}, []string{"sysfs"}},
		{"overlay", "", map[string]string{"type": "overlay", "device": "overlay", "o": "lowerdir=/etc:/usr,upperdir=/tmp/u,workdir=/tmp/w"}, []string{"/etc", "/usr", "/tmp/u", "/tmp/w"}},
		{"overlay lowerdir+", "", map[string]string{"type": "overlay", "device": "x", "o": "lowerdir+=/etc,datadir+=/var"}, []string{"/etc", "/var"}},
		{"tmpfs", "", map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, nil},
		{"nfs", "", map[string]string{"type": "nfs", "device": ":/export", "o": "addr=10.0.0.1"}, nil},
		{"cifs", "", map[string]string{"type": "cifs", "device": "//srv/share"}, nil},
		{"another driver", "rexray", map[string]string{"device": "/etc"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := volumeHostPaths(tt.driver, tt.opts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("volumeHostPaths = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseSecurityOpts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts []string
		want Security
	}{
		{[]string{"no-new-privileges"}, Security{NoNewPrivileges: true}},
		{[]string{"no-new-privileges:true"}, Security{NoNewPrivileges: true}},
		{[]string{"no-new-privileges=1"}, Security{NoNewPrivileges: true}},
		{[]string{"no-new-privileges", "no-new-privileges=false"}, Security{}},
		{[]string{"no-new-privileges=false", "no-new-privileges"}, Security{NoNewPrivileges: true}},
		{[]string{"seccomp:unconfined", "apparmor=unconfined"}, Security{Seccomp: "unconfined", AppArmor: "unconfined"}},
		{[]string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}, Security{Seccomp: "<inline>", SeccompDefaultAction: "SCMP_ACT_ALLOW"}},
		// keys are matched as encoding/json matches them; last duplicate wins
		{[]string{`seccomp={"DEFAULTACTION":"SCMP_ACT_ERRNO","defaultaction":"SCMP_ACT_LOG"}`}, Security{Seccomp: "<inline>", SeccompDefaultAction: "SCMP_ACT_LOG"}},
		{[]string{`seccomp={"syscalls":[]}`}, Security{Seccomp: "<inline>"}},
		{[]string{`seccomp={not json`}, Security{Seccomp: "<inline>", Invalid: []string{"seccomp=<inline profile that is not JSON>"}}},
		{[]string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`, "seccomp=/p.json"}, Security{Seccomp: "/p.json"}},
		{[]string{"label=disable", "disable", "label:type:svirt_t"}, Security{Labels: []string{"disable", "disable", "type:svirt_t"}}},
		{[]string{"no-new-privileges=maybe", "bogus", "foo=bar"}, Security{Invalid: []string{"no-new-privileges=maybe", "bogus", "foo=bar"}}},
	}
	for _, tt := range tests {
		got := ParseSecurityOpts(tt.opts)
		if tt.want.Labels == nil {
			tt.want.Labels = []string{}
		}
		if tt.want.Invalid == nil {
			tt.want.Invalid = []string{}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSecurityOpts(%q) = %+v, want %+v", tt.opts, got, tt.want)
		}
	}
}

// TestMounts covers every way a create body asks for a filesystem, and the
// host-path resolution of B6/B7 against a real directory tree.
func TestMounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		hostConfig string
		config     string
		want       []Mount // compared on Origin, Type, Target, HostPath, Resolved, Propagation, ReadOnly
		wantErr    string
	}{
		{name: "bind through a symlink (B6)", hostConfig: `"Binds":["` + link + `/sub:/data:ro"]`,
			want: []Mount{{Origin: "Binds", Type: "bind", Target: "/data", HostPath: link + "/sub", Resolved: real + "/sub", ReadOnly: true}}},
		{name: "bind through .. (B6)", hostConfig: `"Binds":["` + real + `/sub/../../link/x:/d"]`,
			want: []Mount{{Origin: "Binds", Type: "bind", Target: "/d", HostPath: dir + "/link/x", Resolved: real + "/x"}}},
		{name: "symlink plus a path that does not exist yet (B6)", hostConfig: `"Binds":["` + link + `/new/deeper:/d:rshared"]`,
			want: []Mount{{Origin: "Binds", Type: "bind", Target: "/d", HostPath: link + "/new/deeper", Resolved: real + "/new/deeper", Propagation: "rshared"}}},
		{name: "dangling symlink cannot be resolved", hostConfig: `"Binds":["` + dangling + `/x:/d"]`, wantErr: "cannot be resolved"},
		{name: "named volume in Binds", hostConfig: `"Binds":["data:/data"]`,
			want: []Mount{{Origin: "Binds", Type: "volume", Target: "/data"}}},
		{name: "--mount type=bind (B7)", hostConfig: `"Mounts":[{"Type":"bind","Source":"` + link + `","Target":"/m","BindOptions":{"Propagation":"shared"}}]`,
			want: []Mount{{Origin: "Mounts", Type: "bind", Target: "/m", HostPath: link, Resolved: real, Propagation: "shared"}}},
		{name: "--mount volume binding a host dir via driver options (B7)",
			hostConfig: `"Mounts":[{"Type":"volume","Source":"v","Target":"/m","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"` + link + `"}}}}]`,
			want:       []Mount{{Origin: "Mounts", Type: "volume", Target: "/m", HostPath: link, Resolved: real}}},
		{name: "--mount volume with o=bind only",
			hostConfig: `"Mounts":[{"Type":"volume","Target":"/m","VolumeOptions":{"DriverConfig":{"Options":{"o":"rw,bind","device":"/"}}}}]`,
			want:       []Mount{{Origin: "Mounts", Type: "volume", Target: "/m", HostPath: "/", Resolved: "/"}}},
		{name: "--mount nfs volume reaches no host path",
			hostConfig: `"Mounts":[{"Type":"volume","Target":"/m","VolumeOptions":{"DriverConfig":{"Options":{"type":"nfs","o":"addr=1.2.3.4","device":":/x"}}}}]`,
			want:       []Mount{{Origin: "Mounts", Type: "volume", Target: "/m"}}},
		{name: "tmpfs and anonymous volumes", hostConfig: `"Tmpfs":{"/tmp":"","/run":"size=1m"}`, config: `"Volumes":{"/cache":{}}`,
			want: []Mount{{Origin: "Tmpfs", Type: "tmpfs", Target: "/run"}, {Origin: "Tmpfs", Type: "tmpfs", Target: "/tmp"}, {Origin: "Volumes", Type: "volume", Target: "/cache"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `{"Image":"b",` + tt.config
			if tt.config != "" {
				body += ","
			}
			body += `"HostConfig":{` + tt.hostConfig + `}}`
			in, err := testBuilder().Build(t.Context(), createReq(body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Build err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			var got []Mount
			for _, m := range in.Container.Mounts {
				got = append(got, Mount{Origin: m.Origin, Type: m.Type, Target: m.Target, HostPath: m.HostPath,
					Resolved: m.Resolved, Propagation: m.Propagation, ReadOnly: m.ReadOnly})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("mounts =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestEnvValuesNeverLeave checks that no secret in Env survives into the
// input document (which is what policies, logs and audit records see).
func TestEnvValuesNeverLeave(t *testing.T) {
	t.Parallel()
	in := mustBuild(t, createReq(`{"Image":"b","Env":["SECRET_TOKEN=hunter2","PLAIN"],"eNv":["OTHER=hunter3"]}`))
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "hunter") {
		t.Fatalf("env value leaked into the input: %s", s)
	}
	// "eNv" is the same field to encoding/json: the last one wins.
	if !reflect.DeepEqual(in.Container.EnvNames, []string{"OTHER"}) {
		t.Errorf("env names = %q", in.Container.EnvNames)
	}

	exec := authorization.Request{RequestMethod: "POST", RequestURI: "/containers/x/exec",
		RequestHeaders: map[string]string{"Content-Type": "application/json; charset=utf-8"},
		RequestBody:    []byte(`{"Cmd":["sh"],"ENV":["TOKEN=hunter2"]}`)}
	in = mustBuild(t, exec)
	b, _ = json.Marshal(in)
	if strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), "TOKEN") {
		t.Fatalf("generic body not redacted to names: %s", b)
	}
}
