//go:build e2e

package e2e

// The differential oracle's corpus (oracle_test.go) and its exec, update,
// volume and network runs.

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/input"
)

// expand fills in the corpus placeholders.
func oracleExpand(s string) string {
	return strings.NewReplacer("{{img}}", testImage, "{{app}}", oracleImageApp, "{{bad}}", oracleImageBad,
		"{{bindvol}}", oracleBindVolume, "{{peer}}", oraclePeer, "{{peer2}}", oraclePeer2, "{{run}}", oracleRunning,
		"{{mac}}", oracleMacvlan, "{{veth}}", oracleVethPeer, "{{rel}}", oracleTestdata, "{{hardened}}", hardenedHostConfig).Replace(s)
}

// createWith is a create body for the test image as uid 1000 with HostConfig members.
func createWith(members string) string {
	return `{"Image":"{{img}}","User":"1000:1000","HostConfig":{` + members + `}}`
}

// createExposed is createWith with port 80/tcp exposed, as the CLI sends -p.
func createExposed(members string) string {
	return `{"Image":"{{img}}","User":"1000:1000","ExposedPorts":{"80/tcp":{}},"HostConfig":{` + members + `}}`
}

// seccompAllow is an inline profile that filters nothing (item 13).
const seccompAllow = `{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}`

func (o *oracle) createCorpus(t *testing.T) []oracleCase {
	cases := []oracleCase{
		{name: "empty body but image", body: `{"Image":"{{img}}"}`},
		{name: "hardened", body: createWith(`{{hardened}}`)},

		// Users: the image's USER, spellings of root, names resolved in
		// /etc/passwd (item 9: the runtime's reading of it).
		{name: "user image USER app", body: `{"Image":"{{app}}"}`},
		{name: "user 0", body: `{"Image":"{{img}}","User":"0"}`},
		{name: "user 00", body: `{"Image":"{{img}}","User":"00"}`},
		{name: "user +0", body: `{"Image":"{{img}}","User":"+0"}`},
		{name: "user -0", body: `{"Image":"{{img}}","User":"-0"}`},
		{name: "user root", body: `{"Image":"{{img}}","User":"root"}`},
		{name: "user app", body: `{"Image":"{{img}}","User":"app"}`},
		{name: "user app:app", body: `{"Image":"{{img}}","User":"app:app"}`},
		{name: "user 1000:0", body: `{"Image":"{{img}}","User":"1000:0"}`},
		{name: "user app, bad uid first in passwd (item 9)", body: `{"Image":"{{bad}}","User":"app"}`},
		{name: "user case-variant key", body: `{"Image":"{{img}}","user":"0","User":"1000","USER":"0"}`},

		// B4: case-variant and duplicate keys, the legacy top level.
		{name: "B4 hostconfig PRIVILEGED", body: `{"Image":"{{img}}","hostconfig":{"PRIVILEGED":true}}`},
		{name: "B4 two HostConfig keys, privileged last", body: `{"Image":"{{img}}","HostConfig":{"ReadonlyRootfs":true},"HostConfig":{"Privileged":true}}`},
		{name: "B4 two HostConfig keys, privileged first", body: `{"Image":"{{img}}","HostConfig":{"Privileged":true},"hostConfig":{"ReadonlyRootfs":true}}`},
		{name: "B4 duplicate field in HostConfig", body: `{"Image":"{{img}}","HostConfig":{"Privileged":true,"privileged":false,"CapAdd":["SYS_ADMIN"],"capadd":["NET_RAW"]}}`},
		{name: "B4 legacy top-level Privileged", body: `{"Image":"{{img}}","Privileged":true}`},
		{name: "B4 legacy top-level Binds", body: `{"Image":"{{img}}","Binds":["/etc:/mnt"]}`},

		// Capabilities as the daemon normalizes them.
		{name: "caps add sys_admin lower", body: createWith(`"CapAdd":["sys_admin"]`)},
		{name: "caps add CAP_SYS_ADMIN", body: createWith(`"CapAdd":["CAP_SYS_ADMIN"]`)},
		{name: "caps add Cap_Sys_Ptrace mixed", body: createWith(`"CapAdd":["Cap_Sys_Ptrace"]`)},
		{name: "caps add ALL", body: createWith(`"CapAdd":["ALL"]`)},
		{name: "caps add all drop net_raw", body: createWith(`"CapAdd":["all"],"CapDrop":["net_raw"]`)},
		{name: "caps drop ALL add NET_RAW", body: createWith(`"CapDrop":["ALL"],"CapAdd":["NET_RAW"]`)},
		{name: "caps drop all lower", body: createWith(`"CapDrop":["all"]`)},
		{name: "caps drop ALL add ALL", body: createWith(`"CapDrop":["ALL"],"CapAdd":["ALL"]`)},
		{name: "caps add with space", body: createWith(`"CapAdd":[" SYS_ADMIN"]`)},
		{name: "caps add CAP_ALL", body: createWith(`"CapAdd":["CAP_ALL"]`)},
		{name: "caps drop CAP_ALL", body: createWith(`"CapDrop":["CAP_ALL"],"CapAdd":["NET_RAW"]`)},

		// Security options (B13, B14, item 13).
		{name: "nnp", body: createWith(`"SecurityOpt":["no-new-privileges"]`)},
		{name: "nnp=true", body: createWith(`"SecurityOpt":["no-new-privileges=true"]`)},
		{name: "nnp:1", body: createWith(`"SecurityOpt":["no-new-privileges:1"]`)},
		{name: "nnp then nnp=false", body: createWith(`"SecurityOpt":["no-new-privileges","no-new-privileges=false"]`)},
		{name: "nnp=false then nnp", body: createWith(`"SecurityOpt":["no-new-privileges=false","no-new-privileges"]`)},
		{name: "nnp=FALSE", body: createWith(`"SecurityOpt":["no-new-privileges=FALSE"]`)},
		{name: "seccomp=unconfined", body: createWith(`"SecurityOpt":["seccomp=unconfined"]`)},
		{name: "seccomp:unconfined", body: createWith(`"SecurityOpt":["seccomp:unconfined"]`)},
		{name: "seccomp inline ALLOW (item 13)", body: createWith(`"SecurityOpt":["seccomp=` + seccompAllow + `"]`)},
		{name: "seccomp unconfined then inline", body: createWith(`"SecurityOpt":["seccomp=unconfined","seccomp=` + seccompAllow + `"]`)},
		{name: "apparmor=unconfined", body: createWith(`"SecurityOpt":["apparmor=unconfined"]`)},
		{name: "label=disable", body: createWith(`"SecurityOpt":["label=disable"]`)},
		{name: "label=type:spc_t (item 13)", body: createWith(`"SecurityOpt":["label=type:spc_t"]`)},
		{name: "MaskedPaths empty", body: createWith(`"MaskedPaths":[]`)},
		{name: "MaskedPaths partial", body: createWith(`"MaskedPaths":["/proc/kcore"]`)},
		{name: "ReadonlyPaths empty", body: createWith(`"ReadonlyPaths":[]`)},
		{name: "MaskedPaths null", body: createWith(`"MaskedPaths":null,"ReadonlyPaths":null`)},
		{name: "privileged", body: createWith(`"Privileged":true`)},
		{name: "read-only rootfs", body: createWith(`"ReadonlyRootfs":true`)},

		// Ports (item 7: an empty or null list of bindings).
		{name: "ports 80/tcp [] (item 7)", body: createWith(`"PortBindings":{"80/tcp":[]}`)},
		{name: "ports 80/tcp null (item 7)", body: createWith(`"PortBindings":{"80/tcp":null}`)},
		{name: "ports 80/tcp [] exposed (item 7)", body: `{"Image":"{{img}}","User":"1000","ExposedPorts":{"80/tcp":{}},"HostConfig":{"PortBindings":{"80/tcp":[]}}}`},
		{name: "ports 80/tcp null exposed (item 7)", body: `{"Image":"{{img}}","User":"1000","ExposedPorts":{"80/tcp":{}},"HostConfig":{"PortBindings":{"80/tcp":null}}}`},
		{name: "ports 80 without protocol", body: createExposed(`"PortBindings":{"80":[{"HostIp":"127.0.0.1","HostPort":""}]}`)},
		{name: "ports loopback", body: createExposed(`"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]}`)},
		{name: "ports all interfaces", body: createExposed(`"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":""}]}`)},
		{name: "ports 0.0.0.0", body: createExposed(`"PortBindings":{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":""}]}`)},
		{name: "ports ::", body: createExposed(`"PortBindings":{"80/tcp":[{"HostIp":"::","HostPort":""}]}`)},
		{name: "ports ::ffff:127.0.0.1", body: createExposed(`"PortBindings":{"80/tcp":[{"HostIp":"::ffff:127.0.0.1","HostPort":""}]}`)},
		{name: "ports udp", body: `{"Image":"{{img}}","User":"1000","ExposedPorts":{"53/udp":{}},"HostConfig":{"PortBindings":{"53/udp":[{"HostIp":"","HostPort":""}]}}}`},
		{name: "ports not exposed", body: createWith(`"PortBindings":{"81/tcp":[{"HostIp":"","HostPort":""}]}`)},
		{name: "ports case-variant key", body: createExposed(`"portbindings":{"80/tcp":[{"hostip":"0.0.0.0","hostport":""}]}`)},
		{name: "ports publish all exposed", body: `{"Image":"{{img}}","User":"1000","ExposedPorts":{"80/tcp":{}},"HostConfig":{"PublishAllPorts":true}}`},

		// Mounts and their host sources (items 10, 12).
		{name: "bind /etc ro", body: createWith(`"Binds":["/etc:/mnt:ro"]`)},
		{name: "bind /etc/.. cleaned", body: createWith(`"Binds":["/etc/..:/mnt"]`)},
		{name: "bind relative source", body: createWith(`"Binds":["etc:/mnt"]`)},
		{name: "bind missing source", body: createWith(`"Binds":["/dwf-oracle-missing:/mnt"]`)},
		{name: "mounts bind /etc", body: createWith(`"Mounts":[{"Type":"bind","Source":"/etc","Target":"/mnt"}]`)},
		{name: "mounts bind case-variant", body: createWith(`"mounts":[{"type":"bind","source":"/etc","target":"/mnt","readonly":false}]`)},
		{name: "mounts bind ro", body: createWith(`"Mounts":[{"Type":"bind","Source":"/etc","Target":"/mnt","ReadOnly":true}]`)},
		{name: "bind mode RO upper", body: createWith(`"Binds":["/etc:/mnt:RO"]`)},
		{name: "bind mode ro,rw", body: createWith(`"Binds":["/etc:/mnt:ro,rw"]`)},
		{name: "bind mode z,ro", body: createWith(`"Binds":["/etc:/mnt:z,ro"]`)},
		{name: "bind double slash", body: createWith(`"Binds":["//etc//:/mnt"]`)},
		{name: "mounts type BIND upper", body: createWith(`"Mounts":[{"Type":"BIND","Source":"/etc","Target":"/mnt"}]`)},
		{name: "mounts bind relative source", body: createWith(`"Mounts":[{"Type":"bind","Source":"etc","Target":"/mnt"}]`)},
		{name: "mounts bind trailing slashes", body: createWith(`"Mounts":[{"Type":"bind","Source":"/etc/","Target":"/mnt/"}]`)},
		{name: "mounts volume no source", body: createWith(`"Mounts":[{"Type":"volume","Target":"/mnt"}]`)},
		{name: "named bind volume", body: createWith(`"Binds":["{{bindvol}}:/mnt"]`)},
		{name: "named bind volume via Mounts", body: createWith(`"Mounts":[{"Type":"volume","Source":"{{bindvol}}","Target":"/mnt"}]`)},
		{name: "new volume driver opts bind /", body: createWith(`"Mounts":[{"Type":"volume","Source":"dwf-o-new1","Target":"/mnt","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"/"}}}}]`)},
		{name: "new volume driver opts relative device (item 10)", body: createWith(`"Mounts":[{"Type":"volume","Source":"dwf-o-new2","Target":"/mnt","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"{{rel}}"}}}}]`)},
		{name: "new volume driver opts ext4 device (item 10)", body: createWith(`"Mounts":[{"Type":"volume","Source":"dwf-o-new3","Target":"/mnt","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"ext4","device":"/dev/dwf-oracle-none"}}}}]`)},
		{name: "new volume driver opts overlay (item 10)", body: createWith(`"Mounts":[{"Type":"volume","Source":"dwf-o-new4","Target":"/mnt","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"overlay","device":"overlay","o":"lowerdir=/etc,upperdir=/tmp/dwf-o-up,workdir=/tmp/dwf-o-work"}}}}]`)},
		{name: "anonymous volume", body: `{"Image":"{{img}}","User":"1000","Volumes":{"/data":{}}}`},
		{name: "tmpfs", body: createWith(`"Tmpfs":{"/tmp":"rw"}`)},
		{name: "volumes-from peer with bind volume (item 12)", body: createWith(`"VolumesFrom":["{{peer}}"]`)},
		{name: "volumes-from peer of peer (item 12)", body: createWith(`"VolumesFrom":["{{peer2}}:ro"]`)},

		// Namespaces and networks (item 2).
		{name: "pid host", body: createWith(`"PidMode":"host"`)},
		{name: "pid HOST", body: createWith(`"PidMode":"HOST"`)},
		{name: "network host", body: createWith(`"NetworkMode":"host"`)},
		{name: "network HOST", body: createWith(`"NetworkMode":"HOST"`)},
		{name: "ipc host", body: createWith(`"IpcMode":"host"`)},
		{name: "uts host", body: createWith(`"UTSMode":"host"`)},
		{name: "userns host", body: createWith(`"UsernsMode":"host"`)},
		{name: "cgroupns host", body: createWith(`"CgroupnsMode":"host"`)},
		{name: "cgroupns private", body: createWith(`"CgroupnsMode":"private"`)},
		{name: "ipc shareable", body: createWith(`"IpcMode":"shareable"`)},
		{name: "pid container:run", body: createWith(`"PidMode":"container:{{run}}"`)},
		{name: "network container:run", body: createWith(`"NetworkMode":"container:{{run}}"`)},
		{name: "ipc container:run", body: createWith(`"IpcMode":"container:{{run}}"`)},
		{name: "network none", body: createWith(`"NetworkMode":"none"`)},
		{name: "network macvlan", body: createWith(`"NetworkMode":"{{mac}}"`)},
		{name: "network macvlan by endpoint only", body: `{"Image":"{{img}}","User":"1000","HostConfig":{},"NetworkingConfig":{"EndpointsConfig":{"{{mac}}":{}}}}`},
		{name: "network bridge plus macvlan endpoint", body: `{"Image":"{{img}}","User":"1000","HostConfig":{"NetworkMode":"bridge"},"NetworkingConfig":{"EndpointsConfig":{"{{mac}}":{}}}}`},
		{name: "network macvlan plus bridge endpoint", body: `{"Image":"{{img}}","User":"1000","HostConfig":{"NetworkMode":"{{mac}}"},"NetworkingConfig":{"EndpointsConfig":{"{{mac}}":{},"bridge":{}}}}`},

		// Limits (item 13: quota and period).
		{name: "memory", body: createWith(`"Memory":134217728`)},
		{name: "memory swap -1", body: createWith(`"Memory":134217728,"MemorySwap":-1`)},
		{name: "memory swap = memory", body: createWith(`"Memory":134217728,"MemorySwap":134217728`)},
		{name: "memory too small", body: createWith(`"Memory":1024`)},
		{name: "nano cpus", body: createWith(`"NanoCpus":500000000`)},
		{name: "cpu quota and period (item 13)", body: createWith(`"CpuQuota":50000,"CpuPeriod":100000`)},
		{name: "cpu quota only (item 13)", body: createWith(`"CpuQuota":400000`)},
		{name: "cpu quota and nano cpus", body: createWith(`"CpuQuota":50000,"NanoCpus":500000000`)},
		{name: "cpu shares", body: createWith(`"CpuShares":2`)},
		{name: "pids 100", body: createWith(`"PidsLimit":100`)},
		{name: "pids 0", body: createWith(`"PidsLimit":0`)},
		{name: "pids -1", body: createWith(`"PidsLimit":-1`)},
		{name: "pids case-variant", body: createWith(`"PidsLimit":100,"pidslimit":-1`)},
		{name: "oom kill disable", body: createWith(`"Memory":134217728,"OomKillDisable":true`)},
		{name: "cgroup parent", body: createWith(`"CgroupParent":"dwf-oracle"`)},

		// Devices and sysctls.
		{name: "device /dev/null", body: createWith(`"Devices":[{"PathOnHost":"/dev/null","PathInContainer":"/dev/xnull","CgroupPermissions":"rwm"}]`)},
		{name: "device cgroup rule", body: createWith(`"DeviceCgroupRules":["a *:* rwm"]`)},
		{name: "sysctl ip_forward", body: createWith(`"Sysctls":{"net.ipv4.ip_forward":"1"}`)},
		{name: "sysctl shm_rmid_forced", body: createWith(`"Sysctls":{"kernel.shm_rmid_forced":"1"}`)},
		{name: "sysctl case-variant key", body: createWith(`"sysctls":{"net.ipv4.ip_forward":"1"}`)},
	}
	for i := range cases {
		cases[i].body = oracleExpand(cases[i].body)
		cases[i].probe = true
	}
	cases = append(cases, o.fixtureCases(t, "/containers/create")...)
	cases = append(cases, fuzzCases(t)...)
	return cases
}

// fixture is a file of plugin/testdata/requests.
type requestFixture struct {
	name, uri string
	body      []byte
}

func requestFixtures(t *testing.T, endpoint string) []requestFixture {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "plugin", "testdata", "requests", "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(root, "plugin", "testdata", "requests", "deny", "*", "*.json"))
	var out []requestFixture
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fx struct {
			RequestURI  string `json:"RequestUri"`
			RequestBody json.RawMessage
		}
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.HasSuffix(strings.Split(fx.RequestURI, "?")[0], endpoint) || len(fx.RequestBody) == 0 {
			continue
		}
		rel, _ := filepath.Rel(filepath.Join(root, "plugin", "testdata", "requests"), f)
		out = append(out, requestFixture{name: "fixture " + rel, uri: fx.RequestURI, body: fx.RequestBody})
	}
	return out
}

// fixtureCases are the create fixtures with their image replaced by the
// test image (they name busybox, which the daemon does not have).
func (o *oracle) fixtureCases(t *testing.T, endpoint string) []oracleCase {
	var out []oracleCase
	for _, fx := range requestFixtures(t, endpoint) {
		var m map[string]any
		if err := json.Unmarshal(fx.body, &m); err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		m["Image"] = testImage
		b, _ := json.Marshal(m)
		out = append(out, oracleCase{name: fx.name, uri: fx.uri, body: string(b), probe: true})
	}
	return out
}

// fuzzCases are the create bodies of the fuzz corpus (FuzzBuild's seeds
// and plugin/input/testdata/fuzz), sent as found.
func fuzzCases(t *testing.T) []oracleCase {
	out := []oracleCase{
		{name: "fuzz seed hostconfig PRIVILEGED no image", uri: "/v1.41/containers/%63reate", body: `{"hostconfig":{"PRIVILEGED":true}}`},
		{name: "fuzz seed top-level Privileged", uri: "//containers/./create/", body: `{"Image":"b","Privileged":true}`},
		{name: "fuzz seed hostconfig PRIVILEGED", uri: "/v1.41/containers/%63reate", body: oracleExpand(`{"Image":"{{img}}","hostconfig":{"PRIVILEGED":true}}`)},
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "plugin", "input", "testdata", "fuzz", "FuzzBuild", "*"))
	for _, f := range files {
		args := readFuzzFile(t, f)
		if len(args) != 3 || args[0] != "POST" {
			continue
		}
		rt, err := input.Route(authorization.Request{RequestMethod: args[0], RequestURI: args[1]})
		if err != nil || rt.Endpoint != "container.create" {
			continue
		}
		out = append(out, oracleCase{name: "fuzz corpus " + filepath.Base(f), uri: args[1], body: args[2]})
	}
	for i := range out {
		out[i].probe = true // the test image has no CMD: the daemon refuses a create without one
	}
	return out
}

// readFuzzFile reads a "go test fuzz v1" file of string and []byte values.
func readFuzzFile(t *testing.T, f string) []string {
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		line := sc.Text()
		for _, p := range []string{"string(", "[]byte("} {
			if v, ok := strings.CutPrefix(line, p); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(v, ")"))
				if err != nil {
					return nil
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// --- exec (item 8) ------------------------------------------------------

func (o *oracle) runExecs(t *testing.T) {
	// A container created from a root image under a tag that is then
	// moved to an image whose USER is app: the daemon merged the image's
	// (empty) USER at create, so an exec without -u is root.
	hs := o.hs
	hs.mustDocker(t, "run", "-d", "--name", "dwf-o-moved", oracleImageMoved, "sleep", "300")
	hs.mustDocker(t, "tag", oracleImageApp, oracleImageMoved)
	hs.mustDocker(t, "run", "-d", "--name", "dwf-o-app", oracleImageApp, "sleep", "300")
	hs.mustDocker(t, "run", "-d", "--name", "dwf-o-bad", "--user", "app", oracleImageBad, "sleep", "300")
	t.Cleanup(func() { hs.docker(t, "rm", "-f", "dwf-o-moved", "dwf-o-app", "dwf-o-bad") })
	cases := []struct{ name, ctr, body string }{
		{"exec no user, tag moved since create (item 8)", "dwf-o-moved", `{"Cmd":["cat","/proc/self/status"],"AttachStdout":true,"Tty":true}`},
		{"exec no user, image USER app", "dwf-o-app", `{"Cmd":["cat","/proc/self/status"],"AttachStdout":true,"Tty":true}`},
		{"exec user 0", "dwf-o-app", `{"Cmd":["cat","/proc/self/status"],"AttachStdout":true,"Tty":true,"User":"0"}`},
		{"exec user root case-variant key", "dwf-o-app", `{"Cmd":["cat","/proc/self/status"],"AttachStdout":true,"Tty":true,"User":"app","user":"root"}`},
		{"exec no user, container user app with bad passwd (item 9)", "dwf-o-bad", `{"Cmd":["cat","/proc/self/status"],"AttachStdout":true,"Tty":true}`},
		{"exec user app, bad passwd (item 9)", "dwf-o-bad", `{"Cmd":["cat","/proc/self/status"],"AttachStdout":true,"Tty":true,"User":"app"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o.ran[c.name] = true
			uri := o.api + "/containers/" + c.ctr + "/exec"
			in, verr := o.view("POST", uri, []byte(c.body))
			res := o.do(t, "POST", uri, []byte(c.body))
			if !res.succeeded() {
				t.Logf("the daemon refuses it: %v", res)
				return
			}
			id := createdID(t, res)
			start := o.do(t, "POST", o.api+"/exec/"+id+"/start", []byte(`{"Detach":false,"Tty":true}`))
			st, err := parseStatus(start.msg)
			if err != nil {
				t.Fatalf("exec output: %v (%v)", err, start)
			}
			if verr != nil {
				t.Logf("dockward refuses it before any rule (%v): conservative", verr)
				return
			}
			u := in.Exec.User
			// A uid dockward cannot establish (null) is denied by
			// exec_non_root_user unless the name is allowed: conservative.
			if u.UID != nil && *u.UID != st.uid {
				o.diverge(t, c.name, "exec.user.uid", "the exec runs as uid %d; dockward's exec.user is %q (uid %s, source %s)",
					st.uid, u.Raw, intPtrStr(u.UID), u.Source)
			}
		})
	}
}

func intPtrStr(p *int) string {
	if p == nil {
		return "null"
	}
	return strconv.Itoa(*p)
}

// --- update (item 13) -----------------------------------------------------

func (o *oracle) runUpdates(t *testing.T) {
	type base struct{ name, body string }
	bases := []base{
		{"hardened", withProbe(oracleExpand(createWith(`{{hardened}}`)))},
		{"memory only", withProbe(oracleExpand(createWith(`"Memory":134217728`)))},
		{"nothing", withProbe(oracleExpand(createWith(``)))},
	}
	bodies := []struct{ name, body string }{
		{"memory 256m", `{"Memory":268435456}`},
		{"memory swap -1", `{"MemorySwap":-1}`},
		{"memory 256m swap -1", `{"Memory":268435456,"MemorySwap":-1}`},
		{"nano cpus 1.5", `{"NanoCpus":1500000000}`},
		{"cpu quota 400000 (item 13)", `{"CpuQuota":400000}`},
		{"cpu quota and period (item 13)", `{"CpuQuota":400000,"CpuPeriod":100000}`},
		{"cpu period only (item 13)", `{"CpuPeriod":10000}`},
		{"pids -1", `{"PidsLimit":-1}`},
		{"pids 0", `{"PidsLimit":0}`},
		{"pids case-variant", `{"PidsLimit":100,"pidslimit":-1}`},
		{"memory case-variant", `{"memory":1073741824}`},
		{"empty", `{}`},
	}
	for _, fx := range requestFixtures(t, "/update") {
		bodies = append(bodies, struct{ name, body string }{fx.name, string(fx.body)})
	}
	for _, b := range bases {
		for _, u := range bodies {
			name := "update " + u.name + " on " + b.name
			t.Run(name, func(t *testing.T) {
				o.ran[name] = true
				id := o.mustCreate(t, b.body)
				t.Cleanup(func() { o.hs.docker(t, "rm", "-f", id) })
				before := o.inspect(t, id).HostConfig
				uri := o.api + "/containers/" + id + "/update"
				in, verr := o.view("POST", uri, []byte(u.body))
				res := o.do(t, "POST", uri, []byte(u.body))
				after := o.inspect(t, id).HostConfig
				if !res.succeeded() {
					t.Logf("the daemon refuses it: %v", res)
					if !reflect.DeepEqual(before, after) {
						t.Errorf("a refused update changed the container: %+v -> %+v", before, after)
					}
					return
				}
				if verr != nil {
					t.Logf("dockward refuses it before any rule (%v): conservative", verr)
					return
				}
				// dockward's view of the result: its fields where set (0
				// means unchanged, pids null does), else what was there.
				r := in.Update.Resources
				pick := func(v, old int64) int64 {
					if v != 0 {
						return v
					}
					return old
				}
				want := input.Resources{Memory: pick(r.Memory, before.Memory), MemorySwap: pick(r.MemorySwap, before.MemorySwap),
					NanoCPUs: pick(r.NanoCPUs, before.NanoCpus), CPUQuota: pick(r.CPUQuota, before.CpuQuota),
					CPUPeriod: pick(r.CPUPeriod, before.CpuPeriod), PidsLimit: before.PidsLimit}
				if r.PidsLimit != nil {
					want.PidsLimit = r.PidsLimit
				}
				o.compareResources(t, name, "update", after.Memory, after.MemorySwap, after.NanoCpus, after.CpuQuota, after.CpuPeriod, after.PidsLimit, want)
			})
		}
	}
}

// --- volumes (item 10) ------------------------------------------------------

func (o *oracle) volumeCorpus(t *testing.T) []oracleCase {
	cases := []oracleCase{
		{name: "volume plain", body: `{"Name":"dwf-ov-plain"}`},
		{name: "volume bind /", body: `{"Name":"dwf-ov-root","Driver":"local","DriverOpts":{"type":"none","o":"bind","device":"/"}}`},
		{name: "volume bind /etc/..", body: `{"Name":"dwf-ov-dotdot","DriverOpts":{"type":"none","o":"bind","device":"/etc/.."}}`},
		{name: "volume rbind", body: `{"Name":"dwf-ov-rbind","DriverOpts":{"type":"none","o":"rbind,ro","device":"/etc"}}`},
		{name: "volume bind relative device (item 10)", body: `{"Name":"dwf-ov-rel","DriverOpts":{"type":"none","o":"bind","device":"{{rel}}"}}`},
		{name: "volume bind type empty", body: `{"Name":"dwf-ov-typeless","DriverOpts":{"type":"","o":"bind","device":"/etc"}}`},
		{name: "volume ext4 device (item 10)", body: `{"Name":"dwf-ov-ext4","DriverOpts":{"type":"ext4","device":"/dev/sda1"}}`},
		{name: "volume btrfs relative device (item 10)", body: `{"Name":"dwf-ov-btrfs","DriverOpts":{"type":"btrfs","device":"dev/sda1"}}`},
		{name: "volume overlay lowerdir (item 10)", body: `{"Name":"dwf-ov-overlay","DriverOpts":{"type":"overlay","device":"overlay","o":"lowerdir=/etc:/usr,upperdir=/tmp/dwf-ov-up,workdir=/tmp/dwf-ov-w"}}`},
		{name: "volume tmpfs", body: `{"Name":"dwf-ov-tmpfs","DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"size=1m"}}`},
		{name: "volume nfs", body: `{"Name":"dwf-ov-nfs","DriverOpts":{"type":"nfs","o":"addr=127.0.0.1,ro","device":":/export"}}`},
		{name: "volume case-variant keys", body: `{"name":"dwf-ov-case","driveropts":{"type":"none","o":"bind","device":"/"}}`},
		{name: "volume upper-case option keys", body: `{"Name":"dwf-ov-upper","DriverOpts":{"TYPE":"none","O":"bind","DEVICE":"/"}}`},
		{name: "volume duplicate DriverOpts", body: `{"Name":"dwf-ov-dup","DriverOpts":{"type":"none","o":"bind","device":"/tmp"},"DriverOpts":{"type":"none","o":"bind","device":"/"}}`},
	}
	for i := range cases {
		cases[i].body = oracleExpand(cases[i].body)
	}
	for _, fx := range requestFixtures(t, "/volumes/create") {
		cases = append(cases, oracleCase{name: fx.name, uri: fx.uri, body: string(fx.body)})
	}
	return cases
}

func (o *oracle) runVolume(t *testing.T, c oracleCase) {
	o.ran[c.name] = true
	uri := o.fullURI(c.uri, "/volumes/create")
	in, verr := o.view("POST", uri, []byte(c.body))
	res := o.do(t, "POST", uri, []byte(c.body))
	if !res.succeeded() {
		t.Logf("the daemon refuses it (nothing created): %v", res)
		return
	}
	var v struct {
		Name, Driver string
		Options      map[string]string
	}
	if err := json.Unmarshal([]byte(res.msg), &v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.hs.docker(t, "volume", "rm", "-f", v.Name) })
	if !o.get(t, "/volumes/"+v.Name, &v) {
		t.Fatalf("volume %s vanished", v.Name)
	}
	if strings.Contains(c.name, "bind relative device") {
		// What the relative device reaches, seen from a container: the
		// directory under dockerd's working directory.
		r := o.hs.docker(t, "run", "--rm", "-v", v.Name+":/m:ro", testImage, "ls", "/m")
		if !strings.Contains(r.stdout, "oracle-marker") {
			t.Errorf("a container on volume %s does not see %s/%s: %v", v.Name, o.cwd, oracleTestdata, r)
		}
	}
	if verr != nil {
		t.Logf("dockward refuses it before any rule (%v): conservative", verr)
		return
	}
	vv := in.Volume
	driver := vv.Driver
	if driver == "" {
		driver = "local"
	}
	if driver != v.Driver {
		o.diverge(t, c.name, "volume.driver", "the daemon stored driver %q; dockward's is %q", v.Driver, vv.Driver)
	}
	if !sameStringMaps(v.Options, vv.Options) && !(len(v.Options) == 0 && len(vv.Options) == 0) {
		o.diverge(t, c.name, "volume.options", "the daemon stored options %v; dockward's are %v", v.Options, vv.Options)
	}
	for _, s := range daemonVolumeSources(v.Driver, v.Options, o.cwd) {
		if !pathsCover(vv.HostPath, vv.HostPaths, s) {
			o.diverge(t, c.name, "volume.host_path", "the daemon's options %v reach host %s; dockward's host_path is %q", v.Options, s, vv.HostPath)
		}
	}
}

// --- networks (item 2) ---------------------------------------------------------

type networkCase struct{ name, body string }

func (o *oracle) networkCorpus() []networkCase {
	cases := []networkCase{
		{"network bridge", `{"Name":"dwf-on-br","Options":{"com.docker.network.bridge.name":"dwfon0"}}`},
		{"network macvlan", `{"Name":"dwf-on-mac","Driver":"macvlan","Options":{"parent":"{{veth}}"}}`},
		{"network macvlan case-variant keys", `{"name":"dwf-on-mac2","driver":"macvlan","options":{"parent":"{{veth}}"}}`},
		{"network macvlan duplicate Driver", `{"Name":"dwf-on-mac3","Driver":"bridge","Options":{"parent":"{{veth}}"},"DRIVER":"macvlan"}`},
		{"network ipvlan", `{"Name":"dwf-on-ipv","Driver":"ipvlan","Options":{"parent":"{{veth}}"}}`},
		{"network bridge routed", `{"Name":"dwf-on-routed","Options":{"com.docker.network.bridge.name":"dwfon1","com.docker.network.bridge.gateway_mode_ipv4":"routed"}}`},
		{"network internal", `{"Name":"dwf-on-int","Internal":true,"Options":{"com.docker.network.bridge.name":"dwfon2"}}`},
		{"network config-only", `{"Name":"` + oracleConfigOnly + `","ConfigOnly":true,"Options":{"parent":"{{veth}}"}}`},
	}
	for i := range cases {
		cases[i].body = oracleExpand(cases[i].body)
	}
	return cases
}

func (o *oracle) runNetwork(t *testing.T, c networkCase) {
	o.ran[c.name] = true
	uri := o.api + "/networks/create"
	in, verr := o.view("POST", uri, []byte(c.body))
	res := o.do(t, "POST", uri, []byte(c.body))
	if !res.succeeded() {
		t.Logf("the daemon refuses it (nothing created): %v", res)
		return
	}
	id := createdID(t, res)
	t.Cleanup(func() { o.hs.docker(t, "network", "rm", id) })
	var n struct {
		Name, Driver string
		Internal     bool
		Options      map[string]string
		ConfigFrom   struct{ Network string }
	}
	if !o.get(t, "/networks/"+id, &n) {
		t.Fatalf("network %s vanished", id)
	}
	if c.name == "network config-only" {
		// A network that takes its options from the config-only one.
		o.runNetwork(t, networkCase{"network macvlan config-from", oracleExpand(`{"Name":"dwf-on-from","Driver":"macvlan","ConfigFrom":{"Network":"` + oracleConfigOnly + `"}}`)})
		return
	}
	if verr != nil {
		t.Logf("dockward refuses it before any rule (%v): conservative", verr)
		return
	}
	opts := map[string]string{}
	if n.ConfigFrom.Network != "" {
		var cfg struct{ Options map[string]string }
		o.get(t, "/networks/"+n.ConfigFrom.Network, &cfg)
		for k, v := range cfg.Options {
			opts[k] = v
		}
	}
	for k, v := range n.Options {
		opts[k] = v
	}
	// dockward's view: a typed network view when there is one (a fix may
	// add it), else the body as Rego reads it (canonical field names).
	m := viewJSON(in)
	view, _ := m["network"].(map[string]any)
	driverKey, optsKey, internalKey := "driver", "options", "internal"
	if view == nil {
		view, _ = m["body"].(map[string]any)
		driverKey, optsKey, internalKey = "Driver", "Options", "Internal"
	}
	driver, _ := view[driverKey].(string)
	if driver == "" {
		driver = "bridge"
	}
	if driver != n.Driver {
		o.diverge(t, c.name, "network.driver", "the daemon created a %q network; dockward's input has driver %q", n.Driver, view[driverKey])
	}
	vopts := map[string]string{}
	if vo, ok := view[optsKey].(map[string]any); ok {
		for k, v := range vo {
			vopts[k], _ = v.(string)
		}
	}
	if !sameStringMaps(opts, vopts) {
		o.diverge(t, c.name, "network.options", "the daemon's network has options %v; dockward's input has %v", opts, vopts)
	}
	if internal, _ := view[internalKey].(bool); internal && !n.Internal {
		o.diverge(t, c.name, "network.internal", "the daemon's network is not internal; dockward's input says internal")
	}
}
