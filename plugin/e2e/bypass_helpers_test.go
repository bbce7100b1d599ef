//go:build e2e

package e2e

// Helpers shared by the bypass suites (bypass_*_test.go): one outcome type
// for CLI calls and hand-made HTTP requests, the snapshot that proves a
// refused request did nothing, and the "red" switch that replays a suite
// with its policy rules in dryrun (TestBypassGuardsCanTurnRed) to show that
// each test fails when its guard is removed.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// outcome is what the daemon answered, to a CLI call or a raw request.
type outcome struct {
	via    string // "cli" or "http"
	what   string // the command line or the request line
	code   int    // CLI exit status
	status int    // HTTP status
	msg    string // CLI stderr (and stdout), or the HTTP response body
}

func (o outcome) String() string {
	if o.via == "cli" {
		return fmt.Sprintf("docker %s: exit %d: %s", o.what, o.code, strings.TrimSpace(o.msg))
	}
	return fmt.Sprintf("%s: HTTP %d: %s", o.what, o.status, strings.TrimSpace(o.msg))
}

// succeeded is true when the daemon did what was asked.
func (o outcome) succeeded() bool {
	if o.via == "cli" {
		return o.code == 0
	}
	return o.status >= 200 && o.status < 300
}

// byPlugin is true when dockward refused the request (a policy denial or
// a plugin error, both of which the daemon turns into a refusal).
func (o outcome) byPlugin() bool {
	return strings.Contains(o.msg, deniedPrefix) || strings.Contains(o.msg, "plugin dockward failed")
}

// rules are the rule ids the refusal names.
func (o outcome) rules() []string {
	var ids []string
	for _, m := range ruleIDRe.FindAllStringSubmatch(o.msg, -1) {
		if !slices.Contains(ids, m[1]) {
			ids = append(ids, m[1])
		}
	}
	sort.Strings(ids)
	return ids
}

// goLevel is true for a refusal decided before any rule ran ("request
// denied: <reason>").
func (o outcome) goLevel() bool {
	return o.byPlugin() && strings.Contains(o.msg, "request denied:")
}

func cliOutcome(r result) outcome {
	return outcome{via: "cli", what: strings.Join(r.args, " "), code: r.code, msg: r.stderr + r.stdout}
}

// dockerO runs the CLI and returns its outcome.
func (hs *harness) dockerO(t *testing.T, args ...string) outcome {
	t.Helper()
	return cliOutcome(hs.docker(t, args...))
}

// goGuard is the want of a case refused by Go code before Rego ("request
// denied: ..."); such a guard cannot be switched off from the policy, so a
// red replay skips it.
const goGuard = "(go)"

// expectRefused fails unless dockward refused o. want lists what may
// explain the refusal: rule ids, or goGuard for a Go-level denial; the
// refusal must match at least one (an empty want accepts any refusal by
// dockward).
func expectRefused(t *testing.T, o outcome, want ...string) {
	t.Helper()
	if o.succeeded() {
		t.Errorf("BYPASS: the daemon did it:\n%v", o)
		return
	}
	if !o.byPlugin() {
		t.Errorf("refused, but not by dockward:\n%v", o)
		return
	}
	if o.via == "http" && o.status != http.StatusForbidden && o.status != http.StatusInternalServerError {
		t.Errorf("refused by dockward with HTTP %d, want 403 or 500:\n%v", o.status, o)
	}
	if len(want) == 0 {
		return
	}
	got := o.rules()
	for _, w := range want {
		if w == goGuard && o.goLevel() {
			return
		}
		if slices.Contains(got, w) {
			return
		}
	}
	t.Errorf("refused for %v (go-level: %v), want one of %v:\n%v", got, o.goLevel(), want, o)
}

// expectRefusedAnywhere accepts a refusal by dockward (naming one of want,
// if any) or by the daemon itself before it acted (a redirect, a 404, a
// 400): what matters is that nothing happened, which the caller checks.
func expectRefusedAnywhere(t *testing.T, o outcome, want ...string) {
	t.Helper()
	if o.byPlugin() {
		expectRefused(t, o, want...)
		return
	}
	if o.succeeded() {
		t.Errorf("BYPASS: the daemon did it:\n%v", o)
		return
	}
	t.Logf("refused by the daemon itself, before dockward was asked: %v", o)
}

// verdict is the assertion of a policy-level case: refused naming rule in
// the normal run, not refused by dockward in the red replay (the rule in
// dryrun), which proves the case would catch the guard's removal.
func verdict(t *testing.T, o outcome, red bool, rule ...string) {
	t.Helper()
	if red {
		if o.byPlugin() {
			t.Errorf("with %v in dryrun the request is still refused by dockward (the test cannot turn red):\n%v", rule, o)
		}
		return
	}
	expectRefused(t, o, rule...)
}

// rawReq is a hand-made HTTP request, written byte for byte on the daemon
// socket: the URI is sent exactly as given (Go's client would clean some).
type rawReq struct {
	method  string
	uri     string
	ctype   string // Content-Type; "" for none
	headers []string
	body    []byte
	chunked bool // Transfer-Encoding: chunked instead of Content-Length
}

// raw sends rq on a new connection and reads the answer.
func (hs *harness) raw(t *testing.T, rq rawReq) outcome {
	t.Helper()
	return rawOn(t, "unix", hs.dockerSock, rq)
}

func rawOn(t *testing.T, network, addr string, rq rawReq) outcome {
	t.Helper()
	o, err := rawDo(network, addr, rq, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// rawNoFatal is raw for a goroutine: an error becomes the outcome's text.
func (hs *harness) rawNoFatal(rq rawReq, d time.Duration) outcome {
	o, err := rawDo("unix", hs.dockerSock, rq, d)
	if err != nil {
		o.msg = err.Error()
	}
	return o
}

func rawDo(network, addr string, rq rawReq, timeout time.Duration) (outcome, error) {
	o := outcome{via: "http", what: rq.method + " " + rq.uri}
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return o, fmt.Errorf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	var hdr strings.Builder
	fmt.Fprintf(&hdr, "%s %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: dockward-e2e\r\nConnection: close\r\n", rq.method, rq.uri)
	if rq.ctype != "" {
		fmt.Fprintf(&hdr, "Content-Type: %s\r\n", rq.ctype)
	}
	for _, h := range rq.headers {
		fmt.Fprintf(&hdr, "%s\r\n", h)
	}
	if rq.chunked {
		hdr.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		fmt.Fprintf(&hdr, "Content-Length: %d\r\n", len(rq.body))
	}
	hdr.WriteString("\r\n")
	// Write in the background: the daemon may answer (and close) before
	// it has read a large body.
	go func() {
		w := bufio.NewWriterSize(c, 64<<10)
		_, _ = w.WriteString(hdr.String())
		if rq.chunked {
			for b := rq.body; len(b) > 0; {
				n := min(len(b), 1000)
				fmt.Fprintf(w, "%x\r\n", n)
				_, _ = w.Write(b[:n])
				_, _ = w.WriteString("\r\n")
				b = b[n:]
			}
			_, _ = w.WriteString("0\r\n\r\n")
		} else {
			_, _ = w.Write(rq.body)
		}
		_ = w.Flush()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return o, fmt.Errorf("%s: no HTTP response: %v", o.what, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	o.status, o.msg = resp.StatusCode, string(b)
	if loc := resp.Header.Get("Location"); loc != "" {
		o.msg += " (Location: " + loc + ")"
	}
	return o, nil
}

// apiVersion is the daemon's API version ("1.41"), for URIs with a /vX.Y
// prefix the engine accepts.
func (hs *harness) apiVersion(t *testing.T) string {
	t.Helper()
	if m := regexp.MustCompile(`API (\d+\.\d+)`).FindStringSubmatch(hs.versions); m != nil {
		return m[1]
	}
	return strings.TrimSpace(hs.mustDocker(t, "version", "--format", "{{.Server.APIVersion}}"))
}

// engineAtLeast compares the daemon's version with major.minor.patch; known
// is false when the version does not parse (a source build says
// "library-import").
func (hs *harness) engineAtLeast(major, minor, patch int) (ok, known bool) {
	m := regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(hs.versions)
	if m == nil {
		return false, false
	}
	v := [3]int{}
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	w := [3]int{major, minor, patch}
	for i := range v {
		if v[i] != w[i] {
			return v[i] > w[i], true
		}
	}
	return true, true
}

// hardenedHostConfig is the HostConfig of the hardened run, as JSON members
// without braces, so a body can add or shadow fields around it.
const hardenedHostConfig = `"ReadonlyRootfs":true,"Tmpfs":{"/tmp":""},"CapDrop":["ALL"],"CapAdd":["NET_RAW"],` +
	`"SecurityOpt":["no-new-privileges"],"Memory":134217728,"NanoCpus":500000000,"PidsLimit":100`

// createBody is a create body for the test image running as 1000:1000 with
// the given HostConfig members.
func createBody(hostConfig string) []byte {
	return []byte(`{"Image":"` + testImage + `","User":"1000:1000","Cmd":["true"],"Labels":{"dockward-e2e":"bypass"},"HostConfig":{` + hostConfig + `}}`)
}

// privilegedBody is the hardened create plus Privileged: only no_privileged
// may deny it, so a refusal naming it proves the plugin read the body.
var privilegedBody = createBody(hardenedHostConfig + `,"Privileged":true`)

// snapshot is the daemon state a refused request must not change.
type snapshot struct {
	containers []string
	volumes    []string
	networks   []string
}

func (hs *harness) snap(t *testing.T) snapshot {
	t.Helper()
	return snapshot{
		containers: strings.Fields(hs.mustDocker(t, "ps", "-aq", "--no-trunc")),
		volumes:    strings.Fields(hs.mustDocker(t, "volume", "ls", "-q")),
		networks:   strings.Fields(hs.mustDocker(t, "network", "ls", "-q", "--no-trunc")),
	}
}

func added(before, after []string) []string {
	var out []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			out = append(out, a)
		}
	}
	return out
}

// expectNothingNew fails when containers, volumes or networks appeared
// since before.
func (hs *harness) expectNothingNew(t *testing.T, before snapshot) {
	t.Helper()
	now := hs.snap(t)
	if a := added(before.containers, now.containers); len(a) > 0 {
		t.Errorf("BYPASS: a refused request created containers %v", a)
		hs.removeNew(t, before)
	}
	if a := added(before.volumes, now.volumes); len(a) > 0 {
		t.Errorf("BYPASS: a refused request created volumes %v", a)
		hs.removeNew(t, before)
	}
	if a := added(before.networks, now.networks); len(a) > 0 {
		t.Errorf("BYPASS: a refused request created networks %v", a)
		hs.removeNew(t, before)
	}
}

// removeNew removes whatever appeared since before (the red replay, and
// after a failure, so that later tests start clean).
func (hs *harness) removeNew(t *testing.T, before snapshot) {
	t.Helper()
	now := hs.snap(t)
	for _, id := range added(before.containers, now.containers) {
		hs.docker(t, "rm", "-f", "-v", id)
	}
	for _, v := range added(before.volumes, now.volumes) {
		hs.docker(t, "volume", "rm", "-f", v)
	}
	for _, n := range added(before.networks, now.networks) {
		hs.docker(t, "network", "rm", n)
	}
}

// settle checks the outcome of one case: refused and nothing new (normal
// run), or not refused by dockward and cleaned up (red replay).
func (hs *harness) settle(t *testing.T, before snapshot, red bool) {
	t.Helper()
	if red {
		hs.removeNew(t, before)
		return
	}
	hs.expectNothingNew(t, before)
}

// setModes puts rules in mode ("dryrun"/"enforce") for the rest of t (the
// live policy copy; restored at t's cleanup).
func (hs *harness) setModes(t *testing.T, mode string, rules ...string) {
	t.Helper()
	// An edit that changes nothing is never reloaded (nor logged): skip it
	// (the red replay runs the suites with their rules in dryrun already).
	b, err := os.ReadFile(filepath.Join(hs.policyDir, "data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cur struct {
		Config struct {
			Modes map[string]string `json:"modes"`
		} `json:"authz_config"`
	}
	_ = json.Unmarshal(b, &cur)
	todo := false
	for _, r := range rules {
		todo = todo || cur.Config.Modes[r] != mode
	}
	if !todo {
		return
	}
	hs.editData(t, func(cfg map[string]any) {
		modes, _ := cfg["modes"].(map[string]any)
		if modes == nil {
			modes = map[string]any{}
		}
		for _, r := range rules {
			modes[r] = mode
		}
		cfg["modes"] = modes
	})
}

// compliantContainer creates (and with run, starts) a hardened container
// running `sleep 300`, removed at t's cleanup.
func (hs *harness) compliantContainer(t *testing.T, name string, run bool, extra ...string) string {
	t.Helper()
	args := []string{"create"}
	if run {
		args = []string{"run", "-d"}
	}
	args = append(args, "--name", name, "--label", "dockward-e2e=bypass")
	args = append(append(args, hardened...), extra...)
	args = append(args, testImage, "sleep", "300")
	r := hs.docker(t, args...)
	if r.code != 0 {
		if run && !strings.Contains(r.stderr, "dockward") {
			// The runtime, not the policy: keep the created container.
			t.Logf("cannot start %s (not an authorization problem): %v", name, r)
		} else {
			t.Fatalf("compliant container %s: %v", name, r)
		}
	}
	id := strings.TrimSpace(hs.mustDocker(t, "inspect", "--format", "{{.Id}}", name))
	t.Cleanup(func() { hs.docker(t, "rm", "-f", "-v", id) })
	return id
}

// running reports whether a container is running.
func (hs *harness) running(t *testing.T, id string) bool {
	t.Helper()
	return strings.TrimSpace(hs.mustDocker(t, "inspect", "--format", "{{.State.Running}}", id)) == "true"
}

// inspectJSON decodes `docker inspect` of one object.
func (hs *harness) inspectJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out := hs.mustDocker(t, append([]string{"inspect"}, args...)...)
	var v []map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
		t.Fatalf("docker inspect %v: %v\n%s", args, err, out)
	}
	return v[0]
}

// hostConfigField is HostConfig.<name> of a container, as JSON text.
func (hs *harness) hostConfigField(t *testing.T, id, name string) string {
	t.Helper()
	hc, _ := hs.inspectJSON(t, id)["HostConfig"].(map[string]any)
	b, _ := json.Marshal(hc[name])
	return string(b)
}

// bypassSuite is one class's cases; red replays them with the rules in
// dryrun (see TestBypassGuardsCanTurnRed).
type bypassSuite func(t *testing.T, hs *harness, red bool)
