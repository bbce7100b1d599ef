package input

import (
	"encoding/json"
	"github.com/moby/moby/api/types/network"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"
)

func post(uri, body string) authorization.Request {
	return authorization.Request{RequestMethod: "POST", RequestURI: uri,
		RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: []byte(body)}
}

var pids = int64(100)

// lookupWorld is a daemon with a privileged container, a hardened one, a
// container binding /etc, a host-bound volume, and images with users.
var lookupWorld = StaticLookup{
	Images: map[string]ImageInfo{
		"busybox":    {ID: "sha256:bb"},
		"sha256:app": {ID: "sha256:app"},
		"app-image":  {ID: "sha256:app2"}, // retagged since "noname" and "retagged" were created
		"user-image": {ID: "sha256:ui", User: "1000"},
		"root-user":  {ID: "sha256:ru", User: "root"},
	},
	Containers: map[string]container.CreateRequest{
		// on the LAN (made while network_behind_host was in dryrun), and
		// one whose endpoint names the LAN network by NetworkID
		"onlan": {Config: &container.Config{Image: "busybox", User: "1"}, HostConfig: &container.HostConfig{NetworkMode: "lan"},
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"lan": {}}}},
		"byid": {Config: &container.Config{Image: "busybox", User: "1"}, HostConfig: &container.HostConfig{NetworkMode: "app"},
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"app": {NetworkID: "lannetid0123"}}}},
		"priv":     {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{Privileged: true}},
		"hardened": {Config: &container.Config{Image: "busybox", User: "1000"}, HostConfig: &container.HostConfig{ReadonlyRootfs: true, Resources: container.Resources{PidsLimit: &pids}}},
		"binder":   {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{Binds: []string{"/etc:/host-etc"}}},
		"noname":   {Config: &container.Config{Image: "app-image", User: "app"}, HostConfig: &container.HostConfig{}},
		"orphan":   {Config: &container.Config{Image: "gone", User: "1000"}, HostConfig: &container.HostConfig{}},
		// created from sha256:app (app is 1000); the tag now points to
		// sha256:app2, where app is 0
		"retagged": {Config: &container.Config{Image: "app-image", User: "app"}, HostConfig: &container.HostConfig{}},
		// the image's USER was merged in at create: empty is root
		"rootful": {Config: &container.Config{Image: "user-image"}, HostConfig: &container.HostConfig{}},
		"limited": {Config: &container.Config{Image: "busybox", User: "1"}, HostConfig: &container.HostConfig{Resources: container.Resources{
			Memory: 1 << 27, CPUQuota: 50000, PidsLimit: &pids}}},
		"nanocpu": {Config: &container.Config{Image: "busybox", User: "1"}, HostConfig: &container.HostConfig{Resources: container.Resources{NanoCPUs: 500000000}}},
		// peers of peers
		"hop1":     {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"binder"}}},
		"hop2":     {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"hop1:ro"}}},
		"netpriv":  {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{NetworkMode: "container:priv"}},
		"volnet":   {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"netpriv"}}},
		"volowner": {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{Binds: []string{"etcvol:/m"}}},
		"loop-a":   {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"loop-b"}}},
		"loop-b":   {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"loop-a"}}},
		"deep0":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{}},
		"deep1":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep0"}}},
		"deep2":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep1"}}},
		"deep3":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep2"}}},
		"deep4":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep3"}}},
		"deep5":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep4"}}},
		"deep6":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep5"}}},
		"deep7":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep6"}}},
		"deep8":    {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{VolumesFrom: []string{"deep7"}}},
	},
	ContainerImages: map[string]string{"retagged": "sha256:app", "noname": "sha256:app"},
	Volumes: map[string]map[string]string{
		"etcvol": {"type": "none", "o": "bind", "device": "/etc"},
		"ovl":    {"type": "overlay", "device": "overlay", "o": "lowerdir=/usr:/etc"},
		"relvol": {"type": "none", "o": "bind", "device": "etc"},
	},
	Passwd: map[string]map[string]int{"sha256:app": {"app": 1000, "toor": 0}, "sha256:app2": {"app": 0, "toor": 0}},
	Networks: map[string]NetworkInfo{
		// Every reference the daemon resolves: name, full id, id prefix.
		"host": hostNet, "hostnetid0123": hostNet, "hostnet": hostNet,
		"lan": lanNet, "lannetid0123": lanNet, "lannet": lanNet,
		"routed":  {ID: "routedid", Name: "routed", Driver: "bridge", Options: map[string]string{"com.docker.network.bridge.gateway_mode_ipv4": "routed"}},
		"app":     {ID: "appid", Name: "app", Driver: "bridge", Options: map[string]string{}},
		"bridge":  {ID: "bridgeid", Name: "bridge", Driver: "bridge", Options: map[string]string{"com.docker.network.bridge.name": "docker0"}},
		"cfg":     {ID: "cfgid", Name: "cfg", Driver: "null", ConfigOnly: true, Options: map[string]string{"parent": "eth0"}},
		"fromcfg": {ID: "fromcfgid", Name: "fromcfg", Driver: "macvlan", ConfigFrom: "cfg", Options: map[string]string{}},
	},
	Services: map[string]ServiceInfo{
		"svc": {ID: "svcid", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "svc"},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox", User: "1000"}}},
			PreviousSpec: &swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "svc"},
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox", User: "0",
					Env: []string{"T=secret"}, Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/", Target: "/host"}}}}}},
		// 20.10 keeps a legacy top-level Networks in the specs it stores.
		"legacy": {ID: "legacyid", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "legacy"}},
			PreviousSpec: &swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "legacy"},
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox", User: "1000"}}},
			PreviousRaw: []byte(`{"Name":"legacy","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1000"}},"Networks":[{"Target":"hostnetid0123"}]}`)},
		"fresh": {ID: "freshid", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "fresh"}}},
	},
}

var (
	hostNet = NetworkInfo{ID: "hostnetid0123", Name: "host", Driver: "host", Scope: "local"}
	lanNet  = NetworkInfo{ID: "lannetid0123", Name: "lan", Driver: "macvlan", Scope: "local", Options: map[string]string{"parent": "eth0"}}
)

// buildCase is a request and what its input must hold, or the error it
// must be refused with.
type buildCase struct {
	name    string
	req     authorization.Request
	check   func(in *Input) bool
	wantErr string
}

// runBuildCases builds every case with b. Whatever the case, no Env value
// (the fixtures use "secret") may reach the input.
func runBuildCases(t *testing.T, b Builder, tests []buildCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := b.Build(t.Context(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.MarshalIndent(in, "", " ")
			if !tt.check(in) {
				t.Errorf("unexpected input:\n%s", js)
			}
			if strings.Contains(string(js), "secret") {
				t.Errorf("env value leaked: %s", js)
			}
		})
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	tests := []buildCase{
		{name: "image USER applies when none is given (B15)", req: createReq(`{"Image":"root-user"}`),
			check: func(in *Input) bool { u := in.Container.User; return u.Source == "image" && u.Name == "root" }},
		{name: "image without USER is root", req: createReq(`{"Image":"busybox"}`),
			check: func(in *Input) bool { u := in.Container.User; return u.Source == "image" && u.Raw == "" }},
		{name: "missing image: pull first", req: createReq(`{"Image":"nope"}`), wantErr: "pull it first"},
		{name: "name resolved in the image's passwd", req: createReq(`{"Image":"sha256:app","User":"app:app"}`),
			check: func(in *Input) bool { u := in.Container.User; return u.UID != nil && *u.UID == 1000 && u.Resolved }},
		{name: "name resolved in the image the tag points to now", req: createReq(`{"Image":"app-image","User":"app"}`),
			check: func(in *Input) bool { u := in.Container.User; return u.UID != nil && *u.UID == 0 && u.Resolved }},
		{name: "a name that maps to uid 0 is uid 0", req: createReq(`{"Image":"app-image","User":"toor"}`),
			check: func(in *Input) bool { u := in.Container.User; return u.UID != nil && *u.UID == 0 }},
		{name: "a name not in passwd stays unresolved", req: createReq(`{"Image":"app-image","User":"ghost"}`),
			check: func(in *Input) bool { return in.Container.User.UID == nil }},
		{name: "numeric user needs no lookup", req: createReq(`{"Image":"nope","User":"1000"}`),
			check: func(in *Input) bool { return in.Container.User.Source == "request" }},
		{name: "joined container is looked up (B8)", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"container:priv","PidMode":"Container:hardened"}}`),
			check: func(in *Input) bool {
				p := in.Container.Peers
				return len(p) == 2 && p[0].Via == "network" && p[0].Container.Privileged && p[1].Via == "pid" && p[1].Target == "hardened"
			}},
		{name: "joined container that does not exist", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"IpcMode":"container:ghost"}}`), wantErr: "does not exist"},
		{name: "--volumes-from is looked up (B7)", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"VolumesFrom":["binder:ro"]}}`),
			check: func(in *Input) bool {
				p := in.Container.Peers
				return len(p) == 1 && p[0].Via == "volumes_from" && p[0].Container.Mounts[0].HostPath == "/etc"
			}},
		{name: "named volume bound to a host path (B7)", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"Binds":["etcvol:/mnt"]}}`),
			check: func(in *Input) bool { m := in.Container.Mounts[0]; return m.HostPath == "/etc" && m.Resolved == "/etc" }},
		{name: "existing volume's options win over the request's", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"Mounts":[{"Type":"volume","Source":"etcvol","Target":"/m","VolumeOptions":{"DriverConfig":{"Name":"local"}}}]}}`),
			check: func(in *Input) bool { return in.Container.Mounts[0].HostPath == "/etc" }},
		{name: "an overlay volume reaches each of its dirs", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"Binds":["ovl:/mnt"]}}`),
			check: func(in *Input) bool {
				m := in.Container.Mounts[0]
				return len(m.HostPaths) == 2 && m.HostPaths[0].Resolved == "/usr" && m.HostPaths[1].HostPath == "/etc" && m.HostPath == "/usr"
			}},
		{name: "a relative bind device is left unresolved", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"Binds":["relvol:/mnt"]}}`),
			check: func(in *Input) bool { m := in.Container.Mounts[0]; return m.HostPath == "etc" && m.Resolved == "" }},
		// issue 11 item 12
		{name: "--volumes-from a peer whose named volume binds /etc", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"VolumesFrom":["volowner"]}}`),
			check: func(in *Input) bool {
				p := in.Container.Peers
				return len(p) == 1 && p[0].Container.Mounts[0].HostPath == "/etc"
			}},
		{name: "--volumes-from a peer that has its volumes from another", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"VolumesFrom":["hop2"]}}`),
			check: func(in *Input) bool {
				p := in.Container.Peers
				return len(p) == 3 && p[0].Target == "binder" && len(p[0].Through) == 2 && p[0].Container.Mounts[0].HostPath == "/etc" &&
					p[1].Target == "hop1" && p[2].Target == "hop2" && len(p[2].Through) == 0
			}},
		{name: "a peer's peer joined for something else is not shared", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"VolumesFrom":["volnet"]}}`),
			check: func(in *Input) bool {
				p := in.Container.Peers
				return len(p) == 2 && p[0].Target == "netpriv" && p[1].Target == "volnet" // not priv, netpriv's network peer
			}},
		{name: "a namespace taken from a peer that took it from another", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"container:netpriv"}}`),
			check: func(in *Input) bool {
				p := in.Container.Peers
				return len(p) == 2 && p[0].Target == "netpriv" && p[1].Target == "priv" && p[1].Container.Privileged && p[1].Through[0] == "netpriv"
			}},
		{name: "a cycle is followed once", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"VolumesFrom":["loop-a"]}}`),
			check: func(in *Input) bool { return len(in.Container.Peers) == 2 }},
		{name: "a chain as deep as the bound is followed", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"VolumesFrom":["deep7"]}}`),
			check: func(in *Input) bool { return len(in.Container.Peers) == 8 }},
		{name: "a chain deeper than the bound is denied", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"VolumesFrom":["deep8"]}}`), wantErr: "deeper than 8"},
		{name: "new named volume has no host path", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"Binds":["fresh:/mnt"]}}`),
			check: func(in *Input) bool { return in.Container.Mounts[0].HostPath == "" }},
	}
	runBuildCases(t, Builder{Lookup: lookupWorld, Resolver: mapResolver{}}, tests)
}

func TestOtherDoors(t *testing.T) {
	t.Parallel()
	tests := []buildCase{
		{name: "exec as root (B9)", req: post("/v1.41/containers/hardened/exec", `{"User":"0","Privileged":true,"Cmd":["sh"],"Env":["T=secret"]}`),
			check: func(in *Input) bool {
				e := in.Exec
				return e.Container == "hardened" && e.Privileged && *e.User.UID == 0 && e.EnvNames[0] == "T"
			}},
		{name: "exec without -u runs as the container's user", req: post("/containers/hardened/exec", `{"Cmd":["sh"]}`),
			check: func(in *Input) bool { u := in.Exec.User; return u.Source == "container" && *u.UID == 1000 }},
		// The daemon merged the image's USER into Config.User at create:
		// empty is root, whatever USER the image has now (issue 11 item 8).
		{name: "exec without -u in a container without user is root", req: post("/containers/priv/exec", `{"Cmd":["sh"]}`),
			check: func(in *Input) bool { u := in.Exec.User; return u.Source == "container" && u.Raw == "" && *u.UID == 0 }},
		{name: "exec without -u: empty Config.User is root even if the image's USER is not", req: post("/containers/rootful/exec", `{"Cmd":["sh"]}`),
			check: func(in *Input) bool { u := in.Exec.User; return u.Source == "container" && *u.UID == 0 }},
		{name: "exec user name resolved in the container's own image, not the tag's", req: post("/containers/retagged/exec", `{"Cmd":["sh"]}`),
			check: func(in *Input) bool { u := in.Exec.User; return u.UID != nil && *u.UID == 1000 && u.Resolved }},
		{name: "exec -u name resolved in the container's own image", req: post("/containers/retagged/exec", `{"User":"toor","Cmd":["sh"]}`),
			check: func(in *Input) bool { u := in.Exec.User; return u.Source == "request" && u.UID != nil && *u.UID == 0 }},
		{name: "exec -u numeric needs no lookup", req: post("/containers/ghost/exec", `{"User":"1000","Cmd":["sh"]}`),
			check: func(in *Input) bool { return *in.Exec.User.UID == 1000 }},
		{name: "exec without a body (B1)", req: post("/containers/x/exec", ``), wantErr: "container.exec without a JSON body"},
		{name: "update lifting limits (B9)", req: post("/containers/limited/update", `{"MemorySwap":-1,"PidsLimit":-1}`),
			check: func(in *Input) bool {
				r, e := in.Update.Resources, in.Update.Effective
				return r.MemorySwap == -1 && *r.PidsLimit == -1 && in.Update.Container == "limited" &&
					e.MemorySwap == -1 && *e.PidsLimit == -1 && e.Memory == 1<<27 && e.CPUQuota == 50000
			}},
		{name: "update leaving pids unchanged", req: post("/containers/limited/update", `{"Memory":1024}`),
			check: func(in *Input) bool {
				e := in.Update.Effective
				return in.Update.Resources.PidsLimit == nil && *e.PidsLimit == 100 && e.Memory == 1024
			}},
		{name: "update: a period merged over the container's quota (issue 11 item 13)", req: post("/containers/limited/update", `{"CpuPeriod":1000}`),
			check: func(in *Input) bool { e := in.Update.Effective; return e.CPUQuota == 50000 && e.CPUPeriod == 1000 }},
		{name: "update: zero leaves nano cpus as they were", req: post("/containers/nanocpu/update", `{"NanoCpus":0,"CpuQuota":0}`),
			check: func(in *Input) bool { return in.Update.Effective.NanoCPUs == 500000000 }},
		{name: "update of a container that does not exist", req: post("/containers/ghost/update", `{"Memory":1024}`), wantErr: "does not exist"},
		{name: "volume bound to the host (B7)", req: post("/volumes/create", `{"Name":"v","DriverOpts":{"type":"none","o":"bind","device":"/etc/../etc"}}`),
			check: func(in *Input) bool { return in.Volume.HostPath == "/etc" && in.Volume.Resolved == "/etc" }},
		{name: "volume create without a body (B1)", req: post("/volumes/create", ``), wantErr: "volume.create without a JSON body"},
		{name: "start with a body (B10)", req: post("/v1.23/containers/hardened/start", `{"Privileged":true}`),
			check: func(in *Input) bool { return in.Body != nil }},
		{name: "service: task container view (B11)", req: post("/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1000","ReadOnly":true,
			"CapabilityDrop":["ALL"],"Privileges":{"NoNewPrivileges":true,"Seccomp":{"Mode":"unconfined"}},"Mounts":[{"Type":"bind","Source":"/etc","Target":"/e"}],"Env":["A=b"]},
			"Resources":{"Limits":{"MemoryBytes":1048576,"NanoCPUs":500000000,"Pids":10}},"Networks":[{"Target":"host"}]},"EndpointSpec":{"Ports":[{"TargetPort":80,"PublishedPort":8080}]}}`),
			check: func(in *Input) bool {
				c := in.Container
				return in.Service.Name == "s" && c.ReadOnly && c.Security.NoNewPrivileges && c.Security.Seccomp == "unconfined" &&
					c.Mounts[0].HostPath == "/etc" && c.Resources.Memory == 1048576 && *c.Resources.PidsLimit == 10 &&
					c.Namespaces.Network == "host" && len(c.Ports) == 1 && !c.Ports[0].Loopback && c.EnvNames[0] == "A"
			}},
		{name: "service without a body (B1)", req: post("/services/create", ``), wantErr: "service.create without a JSON body"},
		{name: "plugin service runs no container", req: post("/services/create", `{"Name":"p","TaskTemplate":{"PluginSpec":{"Name":"x"}}}`),
			check: func(in *Input) bool { return in.Service.Plugin && in.Container == nil }},
	}
	runBuildCases(t, Builder{Lookup: lookupWorld, Resolver: mapResolver{}}, tests)
}

// TestStartAndArchive: a start (or restart) judges the container the daemon
// stored; a docker cp into a container carries the container's user.
func TestStartAndArchive(t *testing.T) {
	t.Parallel()
	put := func(uri string) authorization.Request {
		return authorization.Request{RequestMethod: "PUT", RequestURI: uri, RequestHeaders: map[string]string{"Content-Type": "application/x-tar"}}
	}
	tests := []buildCase{
		{name: "start judges the stored container", req: post("/v1.41/containers/hardened/start", ``),
			check: func(in *Input) bool {
				c := in.Container
				return c != nil && c.ReadOnly && c.User.Source == "container" && *c.User.UID == 1000 && in.Body == nil
			}},
		{name: "restart starts a stopped container: judged too", req: post("/containers/priv/restart", ``),
			check: func(in *Input) bool { return in.Container != nil && in.Container.Privileged }},
		{name: "an empty stored user is root (the image USER was merged at create)", req: post("/containers/priv/start", ``),
			check: func(in *Input) bool { u := in.Container.User; return u.Raw == "" && u.UID != nil && *u.UID == 0 }},
		{name: "a stored user name resolves in the container's own image", req: post("/containers/noname/start", ``),
			check: func(in *Input) bool {
				u := in.Container.User
				return u.UID != nil && *u.UID == 1000 && u.Resolved
			}},
		{name: "a stored bind is a host mount", req: post("/containers/binder/start", ``),
			check: func(in *Input) bool { return in.Container.Mounts[0].HostPath == "/etc" }},
		{name: "start of a container that does not exist", req: post("/containers/ghost/start", ``), wantErr: "does not exist"},
		{name: "start of a container whose image id the daemon does not give", req: post("/containers/orphan/start", ``), wantErr: "did not say which image"},
		{name: "docker cp into a container whose user is a name", req: put("/v1.41/containers/noname/archive?path=/etc"),
			check: func(in *Input) bool {
				a := in.Archive
				return a.Container == "noname" && a.Path == "/etc" && a.User.Name == "app" && a.User.UID == nil
			}},
		{name: "docker cp into a container with a numeric user", req: put("/containers/hardened/archive?path=/tmp"),
			check: func(in *Input) bool { return *in.Archive.User.UID == 1000 }},
		{name: "docker cp into a container that does not exist", req: put("/containers/ghost/archive?path=/"), wantErr: "does not exist"},
	}
	runBuildCases(t, Builder{Lookup: lookupWorld, Resolver: mapResolver{}}, tests)
}

// TestAuthSuffixGuard: engines without the CVE-2024-41110 fix withhold the
// body of any request whose raw URI ends in "/auth".
func TestAuthSuffixGuard(t *testing.T) {
	t.Parallel()
	tests := []buildCase{
		{name: "bodiless start ending in /auth", req: post("/v1.23/containers/hardened/start?x=/auth", ``), wantErr: `ends in "/auth"`},
		{name: "create ending in /auth", req: post("/v1.41/containers/create?x=/auth", `{"Image":"busybox"}`), wantErr: `ends in "/auth"`},
		{name: "network connect ending in /auth", req: post("/networks/n/connect?a=/auth", `{"Container":"x"}`), wantErr: `ends in "/auth"`},
		{name: "an unknown route ending in /auth", req: post("/containers/x/auth", `{}`), wantErr: `ends in "/auth"`},
		{name: "docker login is POST /auth", req: post("/v1.41/auth", `{}`), check: func(in *Input) bool { return in.Route.Endpoint == "system.auth" }},
		{name: "POST /auth with a query ending in /auth is still the login", req: post("/auth?x=/auth", `{}`),
			check: func(in *Input) bool { return in.Route.Endpoint == "system.auth" }},
		{name: "an encoded suffix is forwarded with its body", req: post("/v1.41/containers/hardened/start?x=%2Fauth", ``),
			check: func(in *Input) bool { return in.Container != nil }},
	}
	runBuildCases(t, Builder{Lookup: lookupWorld, Resolver: mapResolver{}}, tests)
}
