//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestBypassB9ExecAndUpdate (B9): a container created compliant is made
// privileged, root or unlimited afterwards through exec and update.
func TestBypassB9ExecAndUpdate(t *testing.T) { bypassB9(t, env(t), false) }

func bypassB9(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	id := hs.compliantContainer(t, "dw-b9", true)
	// A container whose user is root, created while non_root_user is in
	// dryrun (a subtest, so the edit is undone when it ends).
	var rootID string
	t.Run("setup: a root container under a temporary policy edit", func(t *testing.T) {
		hs.setModes(t, "dryrun", "non_root_user")
		before := hs.snap(t)
		r := hs.docker(t, append(append([]string{"run", "-d", "--name", "dw-b9-root", "--label", "dockward-e2e=bypass"}, without(hardened, "--user")...), testImage, "sleep", "300")...)
		if now := hs.snap(t); len(added(before.containers, now.containers)) == 1 {
			rootID = added(before.containers, now.containers)[0]
		}
		if rootID == "" {
			t.Fatalf("cannot create the root container: %v", r)
		}
	})
	if rootID != "" {
		t.Cleanup(func() { hs.docker(t, "rm", "-f", rootID) })
	}

	execs := []struct {
		name string
		args []string
		rule string
	}{
		{"exec --privileged", []string{"exec", "--privileged", id, "true"}, "exec_no_privileged"},
		{"exec -u 0", []string{"exec", "-u", "0", id, "true"}, "exec_non_root_user"},
		{"exec -u root", []string{"exec", "-u", "root", id, "true"}, "exec_non_root_user"},
		{"exec -u 00", []string{"exec", "-u", "00", id, "true"}, "exec_non_root_user"},
		{"exec -u +0", []string{"exec", "-u", "+0", id, "true"}, "exec_non_root_user"},
		{"exec -u 0:1000", []string{"exec", "-u", "0:1000", id, "true"}, "exec_non_root_user"},
		{"exec -u root:root", []string{"exec", "-u", "root:root", id, "true"}, "exec_non_root_user"},
		{"exec without -u into a root container", []string{"exec", "dw-b9-root", "true"}, "exec_non_root_user"},
	}
	for _, c := range execs {
		t.Run(c.name, func(t *testing.T) {
			if rootID == "" && strings.Contains(c.name, "root container") {
				t.Skip("no root container")
			}
			before := hs.snap(t)
			verdict(t, hs.dockerO(t, c.args...), red, c.rule)
			hs.settle(t, before, red)
		})
	}
	t.Run("exec -u 1000 is allowed", func(t *testing.T) {
		if red {
			t.Skip("control")
		}
		if o := hs.dockerO(t, "exec", "-u", "1000", id, "true"); o.byPlugin() {
			t.Errorf("a compliant exec was refused: %v", o)
		}
	})

	limits := func(t *testing.T) string {
		return strings.Join([]string{hs.hostConfigField(t, id, "Memory"), hs.hostConfigField(t, id, "MemorySwap"),
			hs.hostConfigField(t, id, "NanoCpus"), hs.hostConfigField(t, id, "CpuQuota"), hs.hostConfigField(t, id, "PidsLimit"),
			hs.hostConfigField(t, id, "OomKillDisable")}, " ")
	}
	orig := limits(t)
	if !strings.HasPrefix(orig, "134217728 ") || !strings.Contains(orig, " 100 ") {
		t.Fatalf("unexpected limits of the compliant container: %s", orig)
	}
	updates := []struct {
		name string
		o    func(t *testing.T) outcome
	}{
		{"update --memory-swap -1", func(t *testing.T) outcome { return hs.dockerO(t, "update", "--memory-swap=-1", id) }},
		{"update --pids-limit -1", func(t *testing.T) outcome { return hs.dockerO(t, "update", "--pids-limit=-1", id) }},
		// (docker update --pids-limit 0 of the 20.10 CLI sends no PidsLimit
		// at all, and nothing changes: the raw case below sends the 0.)
		{"update --pids-limit 100000", func(t *testing.T) outcome { return hs.dockerO(t, "update", "--pids-limit=100000", id) }},
		{"update --cpus 8", func(t *testing.T) outcome { return hs.dockerO(t, "update", "--cpus=8", id) }},
		{"update --memory 8g", func(t *testing.T) outcome { return hs.dockerO(t, "update", "--memory=8g", "--memory-swap=16g", id) }},
		{"update --cpu-quota -1", func(t *testing.T) outcome { return hs.dockerO(t, "update", "--cpu-quota=-1", id) }},
		{"raw update Memory -1", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/containers/" + id + "/update", ctype: "application/json", body: []byte(`{"Memory":-1}`)})
		}},
		{"raw update pidslimit -1 (lower-case key)", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/containers/" + id + "/update", ctype: "application/json", body: []byte(`{"pidslimit":-1}`)})
		}},
		{"raw update PidsLimit 0", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/containers/" + id + "/update", ctype: "application/json", body: []byte(`{"PidsLimit":0}`)})
		}},
		{"raw update OomKillDisable", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/containers/" + id + "/update", ctype: "application/json", body: []byte(`{"OomKillDisable":true}`)})
		}},
	}
	for _, c := range updates {
		t.Run(c.name, func(t *testing.T) {
			o := c.o(t)
			verdict(t, o, red, "update_limits")
			if red {
				// Put the limits back for the next case (the update may
				// have gone through).
				hs.docker(t, "update", "--memory=128m", "--memory-swap=0", "--cpus=0.5", "--pids-limit=100", id)
				return
			}
			if now := limits(t); now != orig {
				t.Errorf("BYPASS: limits changed by a refused update: %s -> %s", orig, now)
			}
		})
	}
	t.Run("update within limits is allowed", func(t *testing.T) {
		if red {
			t.Skip("control")
		}
		if o := hs.dockerO(t, "update", "--pids-limit=200", id); !o.succeeded() {
			t.Errorf("a compliant update was refused: %v", o)
		}
		hs.docker(t, "update", "--pids-limit=100", id)
	})
}

// TestBypassB10StartWithBody (B10): API versions before 1.24 let a start
// request carry a HostConfig. start_no_body refuses any start body. Engines
// that dropped those API versions may refuse /v1.23 themselves; either way
// the container must not be running privileged.
func TestBypassB10StartWithBody(t *testing.T) { bypassB10(t, env(t), false) }

func bypassB10(t *testing.T, hs *harness, red bool) {
	id := hs.compliantContainer(t, "dw-b10", false)
	old := hs.engine == "debian" // API 1.23 still accepted
	cases := []struct {
		uri, body string
		daemonMay bool
	}{
		{"/v1.23/containers/" + id + "/start", `{"Privileged":true,"Binds":["/:/host"]}`, !old},
		{"/v1.23/containers/" + id + "/start", `{"HostConfig":{"Privileged":true}}`, !old},
		{"/v" + hs.apiVersion(t) + "/containers/" + id + "/start", `{"Privileged":true}`, false},
		{"/containers/" + id + "/start", `{"privileged":true}`, false},
	}
	for _, c := range cases {
		t.Run(c.uri+" "+c.body, func(t *testing.T) {
			if red && c.daemonMay {
				t.Skip("the daemon refuses this by itself on this engine")
			}
			o := hs.raw(t, rawReq{method: "POST", uri: c.uri, ctype: "application/json", body: []byte(c.body)})
			switch {
			case red:
				verdict(t, o, true, "start_no_body")
			case c.daemonMay:
				expectRefusedAnywhere(t, o, "start_no_body")
			default:
				expectRefused(t, o, "start_no_body")
			}
			if !red {
				if hs.running(t, id) || hs.hostConfigField(t, id, "Privileged") != "false" {
					t.Errorf("BYPASS: after a refused start: running %v, Privileged %s", hs.running(t, id), hs.hostConfigField(t, id, "Privileged"))
				}
			}
			hs.docker(t, "stop", "-t", "0", id)
		})
	}
}

// TestBypassB7VolumeCreate (B7): a local volume that binds a host path is
// a bind mount under another name; volume_host_path refuses it at create.
func TestBypassB7VolumeCreate(t *testing.T) { bypassB7Volume(t, env(t), false) }

func bypassB7Volume(t *testing.T, hs *harness, red bool) {
	cases := []struct {
		name string
		args []string
	}{
		{"type=none o=bind device=/etc", []string{"volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=/etc", "dw-b7-etc"}},
		{"--driver local o=bind device=/", []string{"volume", "create", "--driver", "local", "-o", "o=bind", "-o", "device=/", "dw-b7-root"}},
		{"o=bind,ro device=/etc", []string{"volume", "create", "-o", "o=bind,ro", "-o", "device=/etc", "dw-b7-ro"}},
		{"o=rbind device=/", []string{"volume", "create", "-o", "type=none", "-o", "o=rbind", "-o", "device=/"}},
		{"device=/etc/../var/run/docker.sock", []string{"volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=/etc/../run"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hs.snap(t)
			verdict(t, hs.dockerO(t, c.args...), red, "volume_host_path")
			hs.settle(t, before, red)
		})
	}
	t.Run("a plain named volume is allowed", func(t *testing.T) {
		if red {
			t.Skip("control")
		}
		before := hs.snap(t)
		if o := hs.dockerO(t, "volume", "create", "dw-b7-plain"); !o.succeeded() {
			t.Errorf("a plain volume create was refused: %v", o)
		}
		hs.removeNew(t, before)
	})
}

// TestBypassB12Plugins (B12): disabling, removing, installing or
// reconfiguring a plugin (dockward itself first) is refused for everyone
// but an admin, before the daemon acts or reaches the network.
//
// `docker plugin install` cannot be driven with the CLI: it first asks the
// daemon for the plugin's privileges (a GET, a read, which the daemon
// resolves from the registry), so the POST /plugins/pull it would send is
// sent raw here.
func TestBypassB12Plugins(t *testing.T) { bypassB12(t, env(t), false) }

func bypassB12(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	ctx := t.TempDir()
	if err := os.MkdirAll(ctx+"/rootfs", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ctx+"/config.json", []byte(`{"interface":{"types":["docker.authz/1.0"],"socket":"x.sock"},"entrypoint":["/x"],"linux":{"capabilities":["CAP_SYS_ADMIN"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	plugins := func(t *testing.T) string { return hs.mustDocker(t, "plugin", "ls", "--no-trunc") }
	orig := plugins(t)
	cases := []struct {
		name string
		o    func(t *testing.T) outcome
	}{
		{"plugin disable dockward", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "disable", pluginName) }},
		{"plugin disable -f dockward", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "disable", "-f", pluginName) }},
		{"plugin rm -f dockward", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "rm", "-f", pluginName) }},
		{"plugin rm x", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "rm", "x") }},
		{"plugin enable x", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "enable", "x") }},
		{"plugin set dockward", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "set", pluginName, "policies.source=/") }},
		{"plugin create (privileged authz plugin)", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "create", "dw-b12-evil", ctx) }},
		{"plugin push x", func(t *testing.T) outcome { return hs.dockerO(t, "plugin", "push", "localhost:1/x") }},
		{"raw POST /plugins/pull", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/plugins/pull?remote=localhost:1/evil:latest&name=evil", ctype: "application/json",
				body: []byte(`[{"Name":"host","Value":["/"]},{"Name":"capabilities","Value":["CAP_SYS_ADMIN"]}]`)})
		}},
		{"raw POST /plugins/x/upgrade", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/plugins/" + pluginName + "/upgrade?remote=localhost:1/evil:latest", ctype: "application/json", body: []byte(`[]`)})
		}},
		{"raw DELETE /plugins/dockward", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "DELETE", uri: v + "/plugins/" + pluginName + "?force=1"})
		}},
		{"raw POST /plugins/dockward%2Fx/disable", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/plugins/" + pluginName + "%2Fx/disable"})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			o := c.o(t)
			verdict(t, o, red, "plugin_admin_only")
			if !red && time.Since(start) > 10*time.Second {
				t.Errorf("the refusal took %s: did the daemon reach the network first?", time.Since(start))
			}
			if now := plugins(t); now != orig {
				if !red {
					t.Errorf("BYPASS: plugins changed: %q -> %q", orig, now)
				}
				hs.docker(t, "plugin", "rm", "-f", "dw-b12-evil")
			}
		})
	}
}

// buildContext is a tar with a Dockerfile and nothing else.
func buildContext(t *testing.T, dockerfile string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(dockerfile)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBypassB16Build (B16): the legacy builder runs RUN steps in containers
// the create rules never see; networkmode=host in the build query is
// refused by build_host_network. BuildKit's /session and /grpc carry no
// inspectable request; no_buildkit_session ships in dryrun, so the test
// looks for its dryrun-deny in the audit log.
func TestBypassB16Build(t *testing.T) { bypassB16(t, env(t), false) }

func bypassB16(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	tarball := buildContext(t, "FROM scratch\nLABEL dockward-e2e=bypass\n")
	images := func(t *testing.T) string { return hs.mustDocker(t, "images", "-aq", "--no-trunc") }
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/Dockerfile", []byte("FROM scratch\nLABEL dockward-e2e=bypass\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		o    func(t *testing.T) outcome
	}{
		{"docker build --network host", func(t *testing.T) outcome {
			return hs.dockerO(t, "build", "--network", "host", "-t", "dw-b16:cli", dir)
		}},
		{"raw /build?networkmode=host", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/build?networkmode=host&t=dw-b16:raw", ctype: "application/x-tar", body: tarball})
		}},
		{"raw /build?networkmode=HOST", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/build?networkmode=HOST&t=dw-b16:upper", ctype: "application/x-tar", body: tarball})
		}},
		{"raw /build?networkmode=%68ost", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/build?networkmode=%68ost&t=dw-b16:pct", ctype: "application/x-tar", body: tarball})
		}},
		{"raw /build%3Fnetworkmode... unversioned", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: "/build?t=dw-b16:uv&networkmode=host", ctype: "application/x-tar", body: tarball})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := images(t)
			verdict(t, c.o(t), red, "build_host_network")
			if red {
				for _, tag := range []string{"cli", "raw", "upper", "pct", "uv"} {
					hs.docker(t, "rmi", "-f", "dw-b16:"+tag)
				}
				return
			}
			if now := images(t); now != before {
				t.Errorf("BYPASS: images changed by a refused build:\n%s\n->\n%s", before, now)
			}
		})
	}
	t.Run("BuildKit session is audited (dryrun)", func(t *testing.T) {
		if red {
			t.Skip("dryrun already")
		}
		n := len(hs.auditRecords(t))
		for _, rq := range []rawReq{
			{method: "POST", uri: v + "/session", headers: []string{"Upgrade: h2c", "Connection: Upgrade", "X-Docker-Expose-Session-Uuid: dw-e2e", "X-Docker-Expose-Session-Name: dw-e2e"}},
			{method: "POST", uri: "/grpc", ctype: "application/grpc"},
		} {
			o := rawWithDeadline(t, hs, rq, 3*time.Second)
			t.Logf("%s -> %s", rq.uri, o)
		}
		var found []string
		for _, rec := range hs.auditRecords(t)[n:] {
			if rec.has(rec.DryRun, "no_buildkit_session") {
				found = append(found, rec.Decision+" "+rec.Path)
				if rec.Decision != "dryrun-deny" {
					t.Errorf("no_buildkit_session recorded with decision %q, want dryrun-deny", rec.Decision)
				}
			}
		}
		if len(found) == 0 {
			envSkip(t, "no dryrun-deny for no_buildkit_session: the daemon did not ask the plugin about /session or /grpc on %s (see the log above)", hs.versions)
		}
		t.Logf("audited: %v", found)
	})
}

// rawWithDeadline is raw for requests the daemon may hijack (an upgrade):
// it gives up waiting after d.
func rawWithDeadline(t *testing.T, hs *harness, rq rawReq, d time.Duration) outcome {
	t.Helper()
	done := make(chan outcome, 1)
	go func() {
		defer func() { _ = recover() }()
		done <- hs.rawNoFatal(rq, d)
	}()
	select {
	case o := <-done:
		return o
	case <-time.After(d + time.Second):
		return outcome{via: "http", what: rq.method + " " + rq.uri, msg: "(no answer: hijacked)"}
	}
}

// TestBypassUnknownWriteRoute: a write to a route dockward does not know is
// refused by request_unknown_write_route, so a new daemon endpoint is never
// allowed by default. Today's engines answer a route their router lacks
// with 404 before any middleware runs, so through dockerd the test asserts
// exactly that (404, nothing created, the plugin not asked) or, should an
// engine ask, dockward's refusal. The guard itself is then proven the way
// dockerd would reach it: authorization requests for the same routes sent
// straight to the plugin's socket must be denied by the rule (and a known
// read, the control, allowed). Without the rule the second part fails.
func TestBypassUnknownWriteRoute(t *testing.T) {
	hs := env(t)
	v := "/v" + hs.apiVersion(t)
	id := hs.compliantContainer(t, "dw-unknown", false)
	routes := []rawReq{
		{method: "POST", uri: v + "/containers/" + id + "/frobnicate", ctype: "application/json", body: []byte(`{}`)},
		{method: "POST", uri: v + "/nonsense"},
		{method: "DELETE", uri: v + "/nonsense/x"},
		{method: "PUT", uri: v + "/containers/" + id + "/frobnicate"},
	}
	t.Run("through dockerd", func(t *testing.T) {
		for _, rq := range routes {
			t.Run(rq.method+" "+rq.uri, func(t *testing.T) {
				before := hs.snap(t)
				off := logSize(t, hs.pluginLog)
				o := hs.raw(t, rq)
				if o.byPlugin() {
					verdict(t, o, false, "request_unknown_write_route")
					hs.expectNothingNew(t, before)
					return
				}
				time.Sleep(200 * time.Millisecond)
				b, _ := os.ReadFile(hs.pluginLog)
				asked := int64(len(b)) > off && strings.Contains(string(b[off:]), strings.SplitN(rq.uri, "?", 2)[0][len(v):])
				switch {
				case asked:
					t.Errorf("BYPASS: the plugin was asked and the request was not refused by dockward:\n%v", o)
				case o.status != http.StatusNotFound:
					t.Errorf("the daemon answered %d without asking the plugin, want its router's 404:\n%v", o.status, o)
				}
				hs.expectNothingNew(t, before)
			})
		}
	})
	// The one write route both engines have that endpoints.go lacks:
	// OPTIONS on any path (CORS preflight), answered 200 with nothing done.
	// request_unknown_write_route refuses it if the daemon asks; either
	// way nothing is created.
	t.Run("OPTIONS (report)", func(t *testing.T) {
		before := hs.snap(t)
		o := hs.raw(t, rawReq{method: "OPTIONS", uri: v + "/containers/create"})
		t.Logf("REPORT: OPTIONS through dockerd: refused by dockward %v: %v", o.byPlugin(), o)
		hs.expectNothingNew(t, before)
	})
	t.Run("to the plugin as dockerd asks", func(t *testing.T) {
		ask := authzRequest(pluginSocket)
		for _, rq := range routes {
			t.Run(rq.method+" "+rq.uri, func(t *testing.T) {
				allow, msg := ask(t, rq.method, rq.uri, rq.ctype, rq.body)
				if allow || !strings.Contains(msg, "[request_unknown_write_route]") {
					t.Errorf("BYPASS: allow=%v %q, want a request_unknown_write_route denial", allow, msg)
				}
			})
		}
		// The control: the same channel allows a known read.
		if allow, msg := ask(t, "GET", v+"/containers/json", "", nil); !allow {
			t.Errorf("GET /containers/json straight to the plugin: denied %q, want allowed", msg)
		}
	})
}

// authzRequest sends one AuthZReq to the plugin socket, shaped as dockerd
// sends it (RequestBody only for a JSON body), and returns Allow and the
// message (Msg or Err).
func authzRequest(sock string) func(t *testing.T, method, uri, ctype string, body []byte) (bool, string) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	return func(t *testing.T, method, uri, ctype string, body []byte) (bool, string) {
		t.Helper()
		headers := map[string]string{}
		if ctype != "" {
			headers["Content-Type"] = ctype
		}
		req, _ := json.Marshal(map[string]any{"RequestMethod": method, "RequestUri": uri, "RequestHeaders": headers, "RequestBody": body})
		resp, err := c.Post("http://plugin/AuthZPlugin.AuthZReq", "application/json", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Allow    bool
			Msg, Err string
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r.Allow, r.Msg + r.Err
	}
}
