//go:build e2e

package e2e

// TestDifferentialOracle (issue 11 item 14): every body of a corpus (the
// issue's tricks, case-variant and duplicate keys, the plugin's request
// fixtures, the fuzz corpus) goes to a bare daemon (no plugin), and what the
// daemon stored and does (inspect, the volume's and network's stored
// options, and for containers that can start the kernel's own view of the
// process: /proc/self/status) is compared field by field with the input
// dockward builds in-process for the same request, its lookups answered by
// the same daemon. dockward may assume more power than the daemon grants
// (it then denies something harmless); it must never see less. Where both
// are exact the values must be equal.
//
// The divergences this finds in today's code are listed in
// knownDivergences, each with the issue item it belongs to. The test fails
// on a divergence not in the list, and on a listed one that no longer
// occurs: delete an entry when its fix lands.

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/daemon"
	"github.com/dockward/dockward/plugin/input"
)

// knownDivergence is a place where dockward's input says less than the
// daemon does today, with the issue 11 item whose fix removes it.
type knownDivergence struct {
	engine string // "debian" or "current"; "" for both
	kase   string // the corpus case's name
	field  string // the compared field (finding.field)
	item   string // "issue 11 item N"
}

// knownDivergences are the divergences the oracle finds today: none. The
// list stays so that a divergence that cannot be fixed at once is named
// here with its issue (the test fails when a listed one stops occurring).
// Those issue 11 found (items 2, 7-13) are fixed; the cases keep them.
var knownDivergences = []knownDivergence{}

// finding is one divergence seen in this run.
type finding struct {
	kase, field, detail string
}

// oracle is the bare daemon and dockward's view of it.
type oracle struct {
	hs     *harness
	lookup *daemon.Client
	api    string            // "/v1.41": the daemon's own API version
	cwd    string            // dockerd's working directory (relative mount sources are relative to it)
	hostNS map[string]string // dockerd's namespaces ("pid" -> "pid:[4026531836]"): the host's
	// defaultNS are the kinds a container with no modes shares with the
	// host (the cgroup namespace on a cgroup v1 host): the daemon's default.
	defaultNS map[string]bool

	// The daemon's defaults, read from a container created with nothing
	// but an image: what an empty field becomes.
	defaultModes    map[string]string
	defaultMasked   []string
	defaultReadonly []string

	found []finding
	ran   map[string]bool // the cases run, by name
}

func TestDifferentialOracle(t *testing.T) {
	start := time.Now()
	o := newOracle(t)
	t.Run("create", func(t *testing.T) {
		for _, c := range o.createCorpus(t) {
			t.Run(c.name, func(t *testing.T) { o.runCreate(t, c) })
		}
	})
	t.Run("exec", func(t *testing.T) { o.runExecs(t) })
	t.Run("update", func(t *testing.T) { o.runUpdates(t) })
	t.Run("volume", func(t *testing.T) {
		for _, c := range o.volumeCorpus(t) {
			t.Run(c.name, func(t *testing.T) { o.runVolume(t, c) })
		}
	})
	t.Run("network", func(t *testing.T) {
		for _, c := range o.networkCorpus() {
			t.Run(c.name, func(t *testing.T) { o.runNetwork(t, c) })
		}
	})
	o.judge(t, knownDivergences)
	t.Logf("oracle done in %s", time.Since(start).Round(time.Millisecond))
}

// newOracle starts the bare daemon and the objects the corpus refers to.
func newOracle(t *testing.T) *oracle {
	start := time.Now()
	hs := startBareDaemon(t)
	lookup, err := daemon.New("unix://"+hs.dockerSock, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lookup.Close() })
	o := &oracle{hs: hs, lookup: lookup, api: "/v" + hs.apiVersion(t), ran: map[string]bool{}}
	pid, err := hs.pidOf("dockerd-bare")
	if err != nil {
		t.Fatal(err)
	}
	if o.cwd, err = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil {
		t.Fatal(err)
	}
	o.hostNS = map[string]string{}
	for _, k := range nsKinds {
		if o.hostNS[k], err = os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, k)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("bare daemon %s (%s) up in %s; its cwd is %s", hs.engine, hs.versions, time.Since(start).Round(time.Millisecond), o.cwd)
	o.setup(t)
	return o
}

// judge fails on every divergence not in knownDivergences, and on every
// listed divergence of this engine that did not occur.
func (o *oracle) judge(t *testing.T, known []knownDivergence) {
	seen := map[string]bool{}
	var fresh []finding
	for _, f := range o.found {
		k := o.known(known, f)
		if k == nil {
			fresh = append(fresh, f)
			continue
		}
		seen[k.kase+"|"+k.field] = true
		t.Logf("known divergence (%s): %s: %s: %s", k.item, f.kase, f.field, f.detail)
	}
	for _, f := range fresh {
		t.Errorf("DIVERGENCE %s: %s: %s", f.kase, f.field, f.detail)
	}
	// With -run naming subtests, a listed case may simply not have run.
	filtered := strings.Contains(flag.Lookup("test.run").Value.String(), "/")
	for _, k := range known {
		if filtered && !o.ran[k.kase] {
			continue
		}
		if (k.engine == "" || k.engine == o.hs.engine) && !seen[k.kase+"|"+k.field] {
			t.Errorf("known divergence %s: %s (%s) no longer occurs on %s: delete it from knownDivergences",
				k.kase, k.field, k.item, o.hs.engine)
		}
	}
}

func (o *oracle) known(known []knownDivergence, f finding) *knownDivergence {
	for i, k := range known {
		if (k.engine == "" || k.engine == o.hs.engine) && k.kase == f.kase && k.field == f.field {
			return &known[i]
		}
	}
	return nil
}

// diverge records that dockward's input says less than the daemon does.
func (o *oracle) diverge(t *testing.T, kase, field, format string, args ...any) {
	t.Helper()
	f := finding{kase: kase, field: field, detail: fmt.Sprintf(format, args...)}
	t.Logf("divergence: %s: %s", field, f.detail)
	o.found = append(o.found, f)
}

// --- the objects the corpus refers to ---------------------------------

const (
	oracleImageApp   = "dwf-oracle:app"       // USER app, app is 1000
	oracleImageBad   = "dwf-oracle:badpasswd" // app has an empty uid first, then 1000
	oracleImageMoved = "dwf-oracle:moving"    // retagged from root to app after a create
	oracleBindVolume = "dwf-bindroot"         // local volume binding the host's /
	oraclePeer       = "dwf-peer"             // mounts oracleBindVolume
	oraclePeer2      = "dwf-peer2"            // --volumes-from oraclePeer
	oracleRunning    = "dwf-run"              // running, for namespace joins
	oracleMacvlan    = "dwf-mac"              // macvlan network on oracleVethParent
	oracleConfigOnly = "dwf-cfg"              // config-only network (parent=oracleVethPeer)
	oracleSleeper    = `["sleep","300"]`      // Cmd of long-running helpers
	oracleProbeCmd   = `["sh","-c","cat /proc/self/status; ls -l /proc/self/ns/; exec sleep 60"]`
	oracleTestdata   = "testdata/oracle-mount" // relative to dockerd's cwd (this directory)
)

func (o *oracle) setup(t *testing.T) {
	hs := o.hs
	hs.importOracleImage(t, oracleImageApp, "root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n", "USER app")
	// moby/sys/user reads a bad uid as 0 and takes the first match (item 9).
	hs.importOracleImage(t, oracleImageBad, "root:x:0:0::/:/bin/sh\napp:x::0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n")
	hs.mustDocker(t, "tag", testImage, oracleImageMoved)
	hs.mustDocker(t, "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=/", oracleBindVolume)
	hs.mustDocker(t, "create", "--name", oraclePeer, "-v", oracleBindVolume+":/peer:ro", testImage, "true")
	hs.mustDocker(t, "create", "--name", oraclePeer2, "--volumes-from", oraclePeer, testImage, "true")
	hs.mustDocker(t, "run", "-d", "--name", oracleRunning, "--user", "1000", testImage, "sleep", "300")
	hs.mustDocker(t, "network", "create", "-d", "macvlan", "-o", "parent="+oracleVethParent, oracleMacvlan)

	// The daemon's defaults: what an empty body leaves, and the
	// namespaces such a container shares with the host.
	id := o.mustCreate(t, withProbe(`{"Image":"`+testImage+`"}`))
	d := o.inspect(t, id)
	o.defaultModes = d.modes()
	o.defaultMasked, o.defaultReadonly = d.HostConfig.MaskedPaths, d.HostConfig.ReadonlyPaths
	hs.mustDocker(t, "start", id)
	st, err := o.procStatus(t, id)
	if err != nil {
		t.Fatal(err)
	}
	o.defaultNS = map[string]bool{}
	for _, k := range nsKinds {
		o.defaultNS[k] = st.ns[k] == o.hostNS[k]
	}
	hs.mustDocker(t, "rm", "-f", id)
	// The probe must see a host namespace when there is one, or the
	// runtime comparison of namespaces proves nothing.
	id = o.mustCreate(t, withProbe(`{"Image":"`+testImage+`","HostConfig":{"PidMode":"host","UTSMode":"host"}}`))
	hs.mustDocker(t, "start", id)
	if st, err = o.procStatus(t, id); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pid", "uts"} {
		if st.ns[k] == "" || st.ns[k] != o.hostNS[k] {
			t.Fatalf("the probe of a --%s host container reads %s namespace %q, the host's is %q", k, k, st.ns[k], o.hostNS[k])
		}
	}
	hs.mustDocker(t, "rm", "-f", id)
	t.Logf("daemon defaults: modes %v, host namespaces %v, %d masked and %d read-only paths", o.defaultModes, o.defaultNS, len(o.defaultMasked), len(o.defaultReadonly))
}

// mustCreate creates a container from a raw body and returns its id.
func (o *oracle) mustCreate(t *testing.T, body string) string {
	t.Helper()
	res := o.do(t, "POST", o.api+"/containers/create", []byte(body))
	if !res.succeeded() {
		t.Fatalf("create %s: %v", body, res)
	}
	return createdID(t, res)
}

func createdID(t *testing.T, res outcome) string {
	t.Helper()
	var v struct {
		ID string `json:"Id"`
	}
	if err := json.Unmarshal([]byte(res.msg), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %v", res)
	}
	return v.ID
}

// --- talking to the bare daemon ---------------------------------------

func (o *oracle) do(t *testing.T, method, uri string, body []byte) outcome {
	t.Helper()
	rq := rawReq{method: method, uri: uri, body: body}
	if body != nil {
		rq.ctype = "application/json"
	}
	res, err := rawDo("unix", o.hs.dockerSock, rq, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// get decodes GET path into v; false when the daemon has no such object.
func (o *oracle) get(t *testing.T, p string, v any) bool {
	t.Helper()
	res := o.do(t, "GET", o.api+p, nil)
	if res.status == 404 {
		return false
	}
	if !res.succeeded() {
		t.Fatalf("GET %s: %v", p, res)
	}
	if err := json.Unmarshal([]byte(res.msg), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", p, err, res.msg)
	}
	return true
}

// view is dockward's input for the request, as dockerd would forward it.
func (o *oracle) view(method, uri string, body []byte) (*input.Input, error) {
	req := authorization.Request{RequestMethod: method, RequestURI: uri, RequestBody: body,
		RequestHeaders: map[string]string{"Content-Type": "application/json"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return input.Builder{Lookup: o.lookup}.Build(ctx, req)
}

// storedContainer is what the daemon has of a container (GET /containers/{id}/json).
type storedContainer struct {
	ID     string `json:"Id"`
	Config struct {
		User  string
		Image string
	}
	HostConfig struct {
		Privileged, ReadonlyRootfs, PublishAllPorts bool
		CapAdd, CapDrop, SecurityOpt, VolumesFrom   []string
		MaskedPaths, ReadonlyPaths                  []string
		DeviceCgroupRules                           []string
		PortBindings                                map[string][]hostPort
		NetworkMode, PidMode, IpcMode, UTSMode      string
		UsernsMode, CgroupnsMode, CgroupParent      string
		Memory, MemorySwap, NanoCpus                int64
		CpuQuota, CpuPeriod                         int64
		PidsLimit                                   *int64
		OomKillDisable                              *bool
		Devices                                     []struct{ PathOnHost, PathInContainer, CgroupPermissions string }
		DeviceRequests                              []json.RawMessage
		Sysctls                                     map[string]string
	}
	Mounts []struct {
		Type, Name, Source, Destination, Driver string
		RW                                      bool
	}
	NetworkSettings struct {
		Ports    map[string][]hostPort
		Networks map[string]struct{ NetworkID string }
	}
}

// hostPort is a binding as the daemon stores it (Docker's field names).
type hostPort struct{ HostIp, HostPort string }

func (d storedContainer) modes() map[string]string {
	hc := d.HostConfig
	return map[string]string{"network": hc.NetworkMode, "pid": hc.PidMode, "ipc": hc.IpcMode, "uts": hc.UTSMode,
		"userns": hc.UsernsMode, "cgroupns": hc.CgroupnsMode}
}

func (o *oracle) inspect(t *testing.T, id string) storedContainer {
	t.Helper()
	var d storedContainer
	if !o.get(t, "/containers/"+id+"/json", &d) {
		t.Fatalf("container %s vanished", id)
	}
	return d
}

// containerID is the id a container reference resolves to, or "".
func (o *oracle) containerID(t *testing.T, ref string) string {
	t.Helper()
	var d storedContainer
	if ref == "" || !o.get(t, "/containers/"+ref+"/json", &d) {
		return ""
	}
	return d.ID
}

// networkID is the id a network reference resolves to, or "".
func (o *oracle) networkID(t *testing.T, ref string) string {
	t.Helper()
	var n struct {
		ID string `json:"Id"`
	}
	if ref == "" || strings.Contains(ref, "/") || !o.get(t, "/networks/"+ref, &n) {
		return ""
	}
	return n.ID
}

// --- container create -------------------------------------------------

type oracleCase struct {
	name  string
	uri   string // "" for /containers/create, or a path after the version prefix, or a full URI ("/v1.41/...")
	body  string
	probe bool // run it (a process printing /proc/self/status) when the daemon can start it
}

// fullURI prefixes the daemon's API version unless the case names its own.
func (o *oracle) fullURI(uri, dflt string) string {
	if uri == "" {
		uri = dflt
	}
	if strings.HasPrefix(uri, "/v1.") || strings.HasPrefix(uri, "//") {
		return uri
	}
	return o.api + uri
}

// withProbe sets Cmd last in the top-level object (the last duplicate key
// wins, whatever its case), so that the container prints the kernel's view
// of its process and stays up for its ports to be read. Cmd is not part of
// dockward's view: both sides see the same request.
func withProbe(body string) string {
	b := strings.TrimSpace(body)
	end := strings.LastIndex(b, "}")
	if !strings.HasPrefix(b, "{") || end < 0 {
		return body
	}
	sep := ","
	if strings.TrimSpace(b[1:end]) == "" {
		sep = ""
	}
	return b[:end] + sep + `"Cmd":` + oracleProbeCmd + `,"Entrypoint":null` + b[end:]
}

func (o *oracle) runCreate(t *testing.T, c oracleCase) {
	o.ran[c.name] = true
	body := c.body
	if c.probe {
		body = withProbe(body)
	}
	uri := o.fullURI(c.uri, "/containers/create")
	in, verr := o.view("POST", uri, []byte(body))
	res := o.do(t, "POST", uri, []byte(body))
	if !res.succeeded() {
		t.Logf("the daemon refuses it (nothing created): %v", res)
		if verr == nil {
			t.Logf("(dockward would evaluate it: harmless)")
		}
		return
	}
	id := createdID(t, res)
	t.Cleanup(func() { o.hs.docker(t, "rm", "-f", "-v", id) })
	if verr != nil {
		t.Logf("dockward refuses it before any rule (%v); the daemon creates it: conservative", verr)
		return
	}
	d := o.inspect(t, id)
	o.compareContainer(t, c.name, d, in.Container)
	if !c.probe {
		return
	}
	if why := o.unstartable(d); why != "" {
		t.Logf("not started: %s", why)
		return
	}
	if r := o.hs.docker(t, "start", id); r.code != 0 {
		t.Logf("the daemon cannot start it here: %s", strings.TrimSpace(r.stderr))
		return
	}
	st, err := o.procStatus(t, id)
	if err != nil {
		t.Logf("no /proc/self/status: %v", err)
		return
	}
	d = o.inspect(t, id)
	o.compareRuntime(t, c.name, d, in.Container, st)
}

// unstartable says why a created container is not started: the sandbox
// cannot run privileged containers, a missing bind source would be created
// on the host, and a volume that binds host paths is mounted on the host.
func (o *oracle) unstartable(d storedContainer) string {
	if d.HostConfig.Privileged {
		return "privileged"
	}
	for _, m := range d.Mounts {
		if m.Type == "bind" {
			if _, err := os.Stat(m.Source); err != nil {
				return "bind source " + m.Source + " does not exist (the daemon would create it)"
			}
		}
		if m.Type == "volume" && m.Driver == "local" && m.Name == oracleBindVolume {
			return "mounts the volume binding /"
		}
	}
	return ""
}

// kernelView is the kernel's view of the container's process.
type kernelView struct {
	uid        int
	capBnd     map[string]bool
	noNewPrivs bool
	seccomp    int               // 0 disabled, 2 filter
	ns         map[string]string // "pid" -> "pid:[4026531836]"
}

// nsKinds are the namespaces in /proc/<pid>/ns the modes choose.
var nsKinds = []string{"pid", "net", "ipc", "uts", "user", "cgroup"}

// nsLink is one line of `ls -l /proc/self/ns/`: "... pid -> pid:[4026531836]".
var nsLink = regexp.MustCompile(`\b([a-z_]+) -> ([a-z_]+:\[\d+\])`)

func (o *oracle) procStatus(t *testing.T, id string) (kernelView, error) {
	t.Helper()
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r := o.hs.docker(t, "logs", id)
		out = r.stdout
		if strings.Contains(out, "Seccomp:") {
			return parseStatus(out)
		}
	}
	return kernelView{}, fmt.Errorf("no status in the logs: %q", out)
}

func parseStatus(s string) (kernelView, error) {
	st := kernelView{uid: -1, ns: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if m := nsLink.FindStringSubmatch(sc.Text()); m != nil {
			st.ns[m[1]] = m[2]
			continue
		}
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "Uid":
			st.uid, _ = strconv.Atoi(f[0])
		case "CapBnd":
			bits, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				return st, err
			}
			st.capBnd = map[string]bool{}
			for i, name := range capNames {
				if bits&(1<<i) != 0 {
					st.capBnd[name] = true
				}
			}
		case "NoNewPrivs":
			st.noNewPrivs = f[0] == "1"
		case "Seccomp":
			st.seccomp, _ = strconv.Atoi(f[0])
		}
	}
	if st.uid < 0 || st.capBnd == nil {
		return st, fmt.Errorf("incomplete status: %q", s)
	}
	return st, nil
}

// capNames are the capabilities by bit number (linux/capability.h).
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}

// defaultCaps is the daemon's default set (oci/caps DefaultCapabilities).
var defaultCaps = []string{"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
	"SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"}

// impliedCaps is the capability set dockward's view describes, read with
// the daemon's documented semantics (ALL in cap_add: everything but
// cap_drop; ALL in cap_drop: only cap_add; else the defaults, minus
// cap_drop, plus cap_add).
func impliedCaps(c *input.Container) map[string]bool {
	set := func(names []string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	add, drop := set(c.CapAdd), set(c.CapDrop)
	out := map[string]bool{}
	switch {
	case c.Privileged:
		return set(capNames)
	case add["ALL"]:
		for _, n := range capNames {
			if !drop[n] {
				out[n] = true
			}
		}
	case drop["ALL"]:
		out = add
	default:
		for _, n := range defaultCaps {
			if !drop[n] {
				out[n] = true
			}
		}
		for n := range add {
			out[n] = true
		}
	}
	return out
}

// viewJSON is the view as Rego reads it, for fields a fix may add (the
// comparisons use them when present, so they keep working after the fix).
func viewJSON(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func (o *oracle) compareContainer(t *testing.T, kase string, d storedContainer, c *input.Container) {
	hc := d.HostConfig
	if d.Config.User != c.User.Raw {
		o.diverge(t, kase, "user", "the daemon stored User %q; dockward's user.raw is %q", d.Config.User, c.User.Raw)
	}
	if hc.Privileged && !c.Privileged {
		o.diverge(t, kase, "privileged", "the daemon stored Privileged true; dockward's privileged is false")
	}
	if !hc.ReadonlyRootfs && c.ReadOnly {
		o.diverge(t, kase, "read_only", "the daemon stored ReadonlyRootfs false; dockward's read_only is true")
	}
	// Capabilities as the daemon will read them (upper case, CAP_ prefix
	// optional); the kernel's own view is compared when the container runs.
	if a, b := daemonCaps(hc.CapAdd), c.CapAdd; !slices.Equal(a, b) && !c.Privileged {
		o.diverge(t, kase, "cap_add", "the daemon stored CapAdd %q (%v); dockward's cap_add is %v", hc.CapAdd, a, b)
	}
	if a, b := daemonCaps(hc.CapDrop), c.CapDrop; !slices.Equal(a, b) && !c.Privileged {
		o.diverge(t, kase, "cap_drop", "the daemon stored CapDrop %q (%v); dockward's cap_drop is %v", hc.CapDrop, a, b)
	}
	// dockward keeps an inline profile's defaultAction (no_unconfined_profiles
	// judges it); the daemon's is the one the kernel gets.
	if allow, prof := inlineSeccompAllows(hc.SecurityOpt); allow && c.Security.Seccomp != "unconfined" && c.Security.SeccompDefaultAction != prof && !c.Privileged {
		o.diverge(t, kase, "security.seccomp", "the daemon stored a seccomp profile with defaultAction %s (every syscall allowed); dockward's seccomp is %q",
			prof, c.Security.Seccomp)
	}
	if !hc.Privileged {
		if hc.MaskedPaths != nil && !containsAll(hc.MaskedPaths, o.defaultMasked) && !c.MaskedPathsSet {
			o.diverge(t, kase, "masked_paths", "the daemon stored MaskedPaths %q (defaults unmasked); dockward's masked_paths_set is false", hc.MaskedPaths)
		}
		if hc.ReadonlyPaths != nil && !containsAll(hc.ReadonlyPaths, o.defaultReadonly) && !c.ReadonlyPathsSet {
			o.diverge(t, kase, "readonly_paths", "the daemon stored ReadonlyPaths %q (defaults writable); dockward's readonly_paths_set is false", hc.ReadonlyPaths)
		}
	}
	o.compareMounts(t, kase, d, c)
	o.comparePorts(t, kase, "ports", hc.PortBindings, c)
	o.compareNamespaces(t, kase, d, c)
	o.compareNetworks(t, kase, d, c)
	o.compareResources(t, kase, "resources", hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.CpuQuota, hc.CpuPeriod, hc.PidsLimit, c.Resources)
	if (hc.OomKillDisable != nil && *hc.OomKillDisable) && (c.Resources.OomKillDisable == nil || !*c.Resources.OomKillDisable) {
		o.diverge(t, kase, "resources.oom_kill_disable", "the daemon stored OomKillDisable true; dockward's is %v", c.Resources.OomKillDisable)
	}
	if hc.CgroupParent != c.Resources.CgroupParent {
		o.diverge(t, kase, "resources.cgroup_parent", "the daemon stored CgroupParent %q; dockward's is %q", hc.CgroupParent, c.Resources.CgroupParent)
	}
	var devs, vdevs []string
	for _, dv := range hc.Devices {
		devs = append(devs, dv.PathOnHost+":"+dv.PathInContainer+":"+dv.CgroupPermissions)
	}
	for _, dv := range c.Devices {
		vdevs = append(vdevs, dv.PathOnHost+":"+dv.PathInContainer+":"+dv.CgroupPermissions)
	}
	if !sameStrings(devs, vdevs) {
		o.diverge(t, kase, "devices", "the daemon stored Devices %v; dockward's devices are %v", devs, vdevs)
	}
	if !sameStrings(hc.DeviceCgroupRules, c.DeviceCgroupRules) {
		o.diverge(t, kase, "device_cgroup_rules", "the daemon stored %q; dockward's are %q", hc.DeviceCgroupRules, c.DeviceCgroupRules)
	}
	if len(hc.DeviceRequests) != len(c.DeviceRequests) {
		o.diverge(t, kase, "device_requests", "the daemon stored %d device requests; dockward has %d", len(hc.DeviceRequests), len(c.DeviceRequests))
	}
	if !sameStringMaps(hc.Sysctls, c.Sysctls) {
		o.diverge(t, kase, "sysctls", "the daemon stored Sysctls %v; dockward's sysctls are %v", hc.Sysctls, c.Sysctls)
	}
	if !sameStrings(hc.VolumesFrom, c.VolumesFrom) {
		o.diverge(t, kase, "volumes_from", "the daemon stored VolumesFrom %q; dockward's volumes_from is %q", hc.VolumesFrom, c.VolumesFrom)
	}
}

// compareRuntime compares the running process (the kernel's view) and the
// ports the daemon published with dockward's view.
func (o *oracle) compareRuntime(t *testing.T, kase string, d storedContainer, c *input.Container, st kernelView) {
	t.Logf("running: uid %d, NoNewPrivs %v, Seccomp %d, %d bounding caps, published %v", st.uid, st.noNewPrivs, st.seccomp, len(st.capBnd), d.NetworkSettings.Ports)
	if c.User.UID != nil && *c.User.UID != st.uid {
		o.diverge(t, kase, "user.uid", "the process runs as uid %d (User %q); dockward's user.uid is %d", st.uid, d.Config.User, *c.User.UID)
	}
	implied := impliedCaps(c)
	var extra []string
	for n := range st.capBnd {
		if !implied[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		o.diverge(t, kase, "caps.effective", "the process's bounding set has %v, which dockward's cap_add %v / cap_drop %v do not grant",
			extra, c.CapAdd, c.CapDrop)
	}
	if !st.noNewPrivs && c.Security.NoNewPrivileges {
		o.diverge(t, kase, "security.no_new_privileges", "the process has NoNewPrivs 0 (SecurityOpt %q); dockward's no_new_privileges is true", d.HostConfig.SecurityOpt)
	}
	if st.seccomp == 0 && c.Security.Seccomp != "unconfined" && !c.Privileged {
		o.diverge(t, kase, "security.seccomp.runtime", "the process has no seccomp filter (SecurityOpt %q); dockward's seccomp is %q", d.HostConfig.SecurityOpt, c.Security.Seccomp)
	}
	o.comparePorts(t, kase, "ports.published", d.NetworkSettings.Ports, c)
	view := map[string]string{"net": c.Namespaces.Network, "pid": c.Namespaces.PID, "ipc": c.Namespaces.IPC,
		"uts": c.Namespaces.UTS, "user": c.Namespaces.Userns, "cgroup": c.Namespaces.Cgroupns}
	for _, k := range nsKinds {
		if st.ns[k] == "" || st.ns[k] != o.hostNS[k] || strings.EqualFold(view[k], "host") || (k == "net" && onHostNetwork(c)) {
			continue
		}
		if view[k] == "" && o.defaultNS[k] {
			continue // the daemon's default, which dockward leaves empty
		}
		if p, ok := cutPrefixFold(view[k], "container:"); ok && o.peerSharesHost(t, c, p, k) {
			continue // joins a container that is itself on the host's namespace: its peer view says so
		}
		mode, ok := map[string]string{"net": "network", "user": "userns", "cgroup": "cgroupns"}[k]
		if !ok {
			mode = k
		}
		o.diverge(t, kase, "namespaces.runtime."+k, "the process is in the host's %s namespace (%s, mode %q as stored); dockward's mode is %q",
			k, st.ns[k], d.modes()[mode], view[k])
	}
}

// onHostNetwork: dockward resolved a network the container names (by name,
// id or id prefix) to the host network (driver host), which
// no_host_namespaces judges as --network host.
func onHostNetwork(c *input.Container) bool {
	for _, n := range c.Networks {
		if n.Driver == "host" {
			return true
		}
	}
	return false
}

// peerSharesHost: the joined container is on the host's namespace k, and
// dockward's peer view of it says so.
func (o *oracle) peerSharesHost(t *testing.T, c *input.Container, target, k string) bool {
	for _, p := range c.Peers {
		if p.Target == target && p.Container != nil {
			m := map[string]string{"net": p.Container.Namespaces.Network, "pid": p.Container.Namespaces.PID, "ipc": p.Container.Namespaces.IPC,
				"uts": p.Container.Namespaces.UTS, "user": p.Container.Namespaces.Userns, "cgroup": p.Container.Namespaces.Cgroupns}
			return strings.EqualFold(m[k], "host") || (m[k] == "" && o.defaultNS[k])
		}
	}
	return false
}

func daemonCaps(caps []string) []string {
	out := []string{}
	for _, c := range caps {
		c = strings.TrimPrefix(strings.ToUpper(c), "CAP_")
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// inlineSeccompAllows reports a seccomp profile sent inline whose default
// action lets every syscall through (the daemon applies it as given).
func inlineSeccompAllows(opts []string) (bool, string) {
	allow := false
	var act string
	for _, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, _ = strings.Cut(opt, ":")
		}
		if k != "seccomp" {
			continue
		}
		allow = false // the last seccomp option wins
		var p struct{ DefaultAction string }
		if strings.HasPrefix(strings.TrimSpace(v), "{") && json.Unmarshal([]byte(v), &p) == nil {
			act = p.DefaultAction
			allow = act == "SCMP_ACT_ALLOW" || act == "SCMP_ACT_LOG"
		}
	}
	return allow, act
}

// mountSource is a host path a mount of the daemon's reaches.
type mountSource struct {
	target, source, via string
	rw                  bool
}

func (o *oracle) daemonMountSources(t *testing.T, d storedContainer) []mountSource {
	var out []mountSource
	for _, m := range d.Mounts {
		switch m.Type {
		case "bind":
			out = append(out, mountSource{target: m.Destination, source: m.Source, via: "bind", rw: m.RW})
		case "volume":
			var v struct {
				Driver  string
				Options map[string]string
			}
			if m.Name == "" || !o.get(t, "/volumes/"+m.Name, &v) {
				continue
			}
			for _, s := range daemonVolumeSources(v.Driver, v.Options, o.cwd) {
				out = append(out, mountSource{target: m.Destination, source: s, via: "volume " + m.Name + " " + fmt.Sprint(v.Options), rw: m.RW})
			}
		}
	}
	return out
}

// daemonVolumeSources are the host paths the local driver mounts for a
// volume's stored options: mount(2) of device with type and o, as
// volume/local does (keys are case-sensitive there; a relative path is
// relative to dockerd's working directory).
func daemonVolumeSources(driver string, opts map[string]string, cwd string) []string {
	if driver != "local" {
		return nil
	}
	typ, o, dev := opts["type"], opts["o"], opts["device"]
	abs := func(p string) string {
		if !strings.HasPrefix(p, "/") {
			p = filepath.Join(cwd, p)
		}
		return path.Clean(p)
	}
	var out []string
	switch typ {
	case "nfs", "nfs4", "cifs", "smb3", "tmpfs", "ramfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2":
		return nil // a remote or a kernel filesystem: no host path
	case "overlay":
		for _, kv := range strings.Split(o, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "lowerdir":
				for _, l := range strings.Split(v, ":") {
					out = append(out, abs(l))
				}
			case "upperdir", "workdir":
				out = append(out, abs(v))
			}
		}
		return out
	}
	if dev == "" {
		return nil
	}
	bind := false
	for _, f := range strings.Split(o, ",") {
		bind = bind || f == "bind" || f == "rbind"
	}
	if bind || (typ != "none" && typ != "") {
		// A bind of a path, or a block device with a filesystem on it.
		return []string{abs(dev)}
	}
	return nil
}

func (o *oracle) compareMounts(t *testing.T, kase string, d storedContainer, c *input.Container) {
	// The container's own mounts, and those it takes from --volumes-from
	// peers, and from theirs (the daemon follows the chain).
	views := append([]input.Mount(nil), c.Mounts...)
	var fromPeers func(c *input.Container, depth int)
	fromPeers = func(c *input.Container, depth int) {
		for _, p := range c.Peers {
			if p.Via == "volumes_from" && p.Container != nil && depth < 8 {
				views = append(views, p.Container.Mounts...)
				fromPeers(p.Container, depth+1)
			}
		}
	}
	fromPeers(c, 0)
	for _, s := range o.daemonMountSources(t, d) {
		var match *input.Mount
		for i := range views {
			if path.Clean(views[i].Target) == path.Clean(s.target) {
				match = &views[i]
			}
		}
		switch {
		case match == nil:
			o.diverge(t, kase, "mounts", "the daemon mounts host %s at %s (%s); dockward's view has no mount there", s.source, s.target, s.via)
		case !pathsCover(match.HostPath, match.HostPaths, s.source):
			o.diverge(t, kase, "mounts.host_path", "the daemon mounts host %s at %s (%s); dockward's host_path is %q", s.source, s.target, s.via, match.HostPath)
		case s.rw && match.ReadOnly:
			o.diverge(t, kase, "mounts.read_only", "the daemon mounts %s at %s read-write; dockward's read_only is true", s.source, s.target)
		}
	}
}

// pathsCover: one of the host paths dockward's view reaches covers the
// daemon's. A relative path (a local volume's device: the kernel resolves it
// against dockerd's working directory, which dockward cannot know) stays
// unresolved and is denied as such, which covers whatever it reaches.
func pathsCover(first string, all []input.HostPath, daemonPath string) bool {
	if hostPathCovers(first, daemonPath) {
		return true
	}
	for _, hp := range all {
		if hostPathCovers(hp.HostPath, daemonPath) || (hp.HostPath != "" && !strings.HasPrefix(hp.HostPath, "/") && hp.Resolved == "") {
			return true
		}
	}
	return false
}

// covers: dockward's host path is the daemon's or a directory above it.
func hostPathCovers(view, daemonPath string) bool {
	if view == "" {
		return false
	}
	return view == daemonPath || view == "/" || strings.HasPrefix(daemonPath, strings.TrimSuffix(view, "/")+"/")
}

// comparePorts checks that every binding the daemon has (stored, or
// published after a start) is in dockward's ports on the same interfaces
// or wider, or covered by publish_all.
func (o *oracle) comparePorts(t *testing.T, kase, field string, bindings map[string][]hostPort, c *input.Container) {
	if c.PublishAll {
		return
	}
	keys := make([]string, 0, len(bindings))
	for k := range bindings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		port := key
		if !strings.Contains(port, "/") {
			port += "/tcp" // the daemon stores "80" as sent and reads it as 80/tcp
		}
		for _, b := range bindings[key] {
			if !portCovered(port, b.HostIp, c.Ports) {
				o.diverge(t, kase, field, "the daemon has %s bound on host ip %q port %q; dockward's ports are %v", port, b.HostIp, b.HostPort, c.Ports)
			}
		}
	}
}

func portCovered(port, hostIP string, ports []input.Port) bool {
	all := func(ip string) bool {
		a, err := netip.ParseAddr(ip)
		return ip == "" || (err == nil && a.IsUnspecified())
	}
	for _, p := range ports {
		if p.ContainerPort != port {
			continue
		}
		if all(p.HostIP) {
			return true
		}
		if all(hostIP) {
			continue
		}
		a, err1 := netip.ParseAddr(p.HostIP)
		b, err2 := netip.ParseAddr(hostIP)
		if err1 == nil && err2 == nil && a.Unmap() == b.Unmap() {
			return true
		}
	}
	return false
}

func (o *oracle) compareNamespaces(t *testing.T, kase string, d storedContainer, c *input.Container) {
	view := map[string]string{"network": c.Namespaces.Network, "pid": c.Namespaces.PID, "ipc": c.Namespaces.IPC,
		"uts": c.Namespaces.UTS, "userns": c.Namespaces.Userns, "cgroupns": c.Namespaces.Cgroupns}
	for _, kind := range []string{"network", "pid", "ipc", "uts", "userns", "cgroupns"} {
		dm, vm := d.modes()[kind], view[kind]
		if vm == "" && dm == o.defaultModes[kind] {
			continue // the daemon's default, which dockward leaves empty
		}
		switch {
		case dm == "host":
			if strings.ToLower(vm) != "host" && !(kind == "network" && onHostNetwork(c)) {
				o.diverge(t, kase, "namespaces."+kind, "the daemon stored %s mode %q; dockward's is %q", kind, dm, vm)
			}
		case strings.HasPrefix(dm, "container:"):
			target, ok := cutPrefixFold(vm, "container:")
			if !ok || o.containerID(t, target) != o.containerID(t, strings.TrimPrefix(dm, "container:")) {
				o.diverge(t, kase, "namespaces."+kind, "the daemon stored %s mode %q; dockward's is %q", kind, dm, vm)
			}
		case kind == "network" && !isBuiltinNetwork(dm):
			if o.networkID(t, vm) != o.networkID(t, dm) {
				o.diverge(t, kase, "namespaces.network", "the daemon stored NetworkMode %q; dockward's is %q", dm, vm)
			}
		}
	}
}

func isBuiltinNetwork(m string) bool {
	return m == "" || m == "default" || m == "bridge" || m == "none" || m == "host"
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// compareNetworks checks that every network the daemon attaches the
// container to is one dockward's view names (its network mode, or the
// networks list a fix may add).
func (o *oracle) compareNetworks(t *testing.T, kase string, d storedContainer, c *input.Container) {
	names := map[string]bool{}
	mode := c.Namespaces.Network
	if mode == "" || mode == "default" {
		mode = "bridge"
	}
	if id := o.networkID(t, mode); id != "" {
		names[id] = true
	}
	if list, ok := viewJSON(c)["networks"].([]any); ok {
		for _, n := range list {
			switch n := n.(type) {
			case string:
				names[o.networkID(t, n)] = true
			case map[string]any:
				for _, k := range []string{"id", "name", "ref"} {
					if s, ok := n[k].(string); ok {
						names[o.networkID(t, s)] = true
					}
				}
			}
		}
	}
	for name, ep := range d.NetworkSettings.Networks {
		id := ep.NetworkID
		if id == "" {
			id = o.networkID(t, name)
		}
		if id == "" && name == c.Namespaces.Network {
			continue // a network that does not exist (the start fails), named the same
		}
		if !names[id] {
			o.diverge(t, kase, "networks", "the daemon attaches the container to network %q; dockward's view names only network mode %q", name, c.Namespaces.Network)
		}
	}
}

// cpus is the CPU limit the kernel gets, in millicpus (0: none).
func millicpus(nano, quota, period int64) int64 {
	if nano > 0 {
		return nano / 1e6
	}
	if quota > 0 {
		if period <= 0 {
			period = 100000
		}
		return quota * 1000 / period
	}
	return 0
}

// pidsLimit is the effective limit (0: unlimited).
func pidsLimit(p *int64) int64 {
	if p == nil || *p <= 0 {
		return 0
	}
	return *p
}

func (o *oracle) compareResources(t *testing.T, kase, field string, mem, swap, nano, quota, period int64, pids *int64, r input.Resources) {
	if mem != r.Memory {
		o.diverge(t, kase, field+".memory", "the daemon has Memory %d; dockward's is %d", mem, r.Memory)
	}
	if swap != r.MemorySwap && !(r.MemorySwap == 0 && mem > 0 && swap == 2*mem) {
		// (20.10 stores an unset MemorySwap as twice Memory: its default.)
		o.diverge(t, kase, field+".memory_swap", "the daemon has MemorySwap %d; dockward's is %d", swap, r.MemorySwap)
	}
	if a, b := millicpus(nano, quota, period), millicpus(r.NanoCPUs, r.CPUQuota, r.CPUPeriod); a != b {
		o.diverge(t, kase, field+".cpus", "the daemon has NanoCpus %d, CpuQuota %d, CpuPeriod %d (%d millicpus); dockward's nano_cpus %d, cpu_quota %d, cpu_period %d (%d)",
			nano, quota, period, a, r.NanoCPUs, r.CPUQuota, r.CPUPeriod, b)
	}
	if a, b := pidsLimit(pids), pidsLimit(r.PidsLimit); a != b {
		o.diverge(t, kase, field+".pids_limit", "the daemon has PidsLimit %v (effective %d, 0 = unlimited); dockward's is %v (%d)", int64PtrStr(pids), a, int64PtrStr(r.PidsLimit), b)
	}
}

func int64PtrStr(p *int64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatInt(*p, 10)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func sameStrings(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	sort.Strings(x)
	sort.Strings(y)
	x, y = slices.Compact(x), slices.Compact(y)
	return slices.Equal(x, y)
}

func sameStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
