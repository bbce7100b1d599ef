//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// Issue 11, second round of doors: a start the plugin sees without its body
// (API < 1.24, a URI ending in /auth), docker cp rewriting what a user name
// means, checkpoints, the start of a container that breaks the rules, and
// builds minting trusted names.

// TestBypassOldStart (issue 11 item 4): engines without the CVE-2024-41110
// fix forward a body only when ContentLength > 0 and the raw URI does not
// end in /auth, while the start handler below API 1.24 decodes a HostConfig
// when ContentLength > 7 or is unknown (chunked). start_api_version refuses
// every start below 1.24; the Go guard refuses any URI ending in /auth but
// POST /auth itself.
func TestBypassOldStart(t *testing.T) { bypassOldStart(t, env(t), false) }

func bypassOldStart(t *testing.T, hs *harness, red bool) {
	id := hs.compliantContainer(t, "dw-oldstart", false)
	v := "/v" + hs.apiVersion(t)
	old := hs.engine == "debian" // 20.10 still serves API 1.23; the current engine's minimum is 1.24
	priv := []byte(`{"Privileged":true,"Binds":["/:/host"]}`)
	cases := []struct {
		name      string
		rq        rawReq
		want      string
		daemonMay bool // the daemon may refuse it itself (API too old)
	}{
		{"bodiless /v1.23 start", rawReq{method: "POST", uri: "/v1.23/containers/" + id + "/start"}, "start_api_version", !old},
		{"chunked /v1.23 start with a HostConfig", rawReq{method: "POST", uri: "/v1.23/containers/" + id + "/start", ctype: "application/json", body: priv, chunked: true}, "start_api_version", !old},
		{"/v1.9 start (1.9 < 1.24 as numbers)", rawReq{method: "POST", uri: "/v1.9/containers/" + id + "/start"}, "start_api_version", true},
		{"bodiless /v1.23 start?x=/auth", rawReq{method: "POST", uri: "/v1.23/containers/" + id + "/start?x=/auth"}, goGuard, !old},
		{"/v1.23 start?x=/auth with a HostConfig", rawReq{method: "POST", uri: "/v1.23/containers/" + id + "/start?x=/auth", ctype: "application/json", body: priv}, goGuard, !old},
		{"chunked /v1.23 start?x=/auth with a HostConfig", rawReq{method: "POST", uri: "/v1.23/containers/" + id + "/start?x=/auth", ctype: "application/json", body: priv, chunked: true}, goGuard, !old},
		{"current start?x=/auth", rawReq{method: "POST", uri: v + "/containers/" + id + "/start?x=/auth"}, goGuard, false},
		{"create?x=/auth, privileged", rawReq{method: "POST", uri: v + "/containers/create?x=/auth", ctype: "application/json", body: privilegedBody}, goGuard, false},
		{"chunked create?name=x&y=/auth, privileged", rawReq{method: "POST", uri: v + "/containers/create?name=dw-oldstart-auth&y=/auth", ctype: "application/json", body: privilegedBody, chunked: true}, goGuard, false},
		{"exec?x=/auth, privileged", rawReq{method: "POST", uri: v + "/containers/" + id + "/exec?x=/auth", ctype: "application/json", body: []byte(`{"Privileged":true,"User":"0","Cmd":["true"]}`)}, goGuard, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A Go guard is not policy: the red replay (rules in dryrun)
			// leaves it in force, so it must still refuse there.
			policy := c.want != goGuard
			before := hs.snap(t)
			o := hs.raw(t, c.rq)
			switch {
			case red && policy:
				verdict(t, o, true, c.want)
			case c.daemonMay:
				expectRefusedAnywhere(t, o, c.want)
			default:
				expectRefused(t, o, c.want)
			}
			// (The red replay's earlier, allowed cases may have made
			// the shared container privileged: the state is checked in
			// the normal run, the refusal in both.)
			if !red && (hs.running(t, id) || hs.hostConfigField(t, id, "Privileged") != "false") {
				t.Errorf("BYPASS: after a refused start: running %v, Privileged %s", hs.running(t, id), hs.hostConfigField(t, id, "Privileged"))
			}
			hs.settle(t, before, red && policy)
			hs.docker(t, "stop", "-t", "0", id)
		})
	}
	t.Run("POST /auth is still docker login's route", func(t *testing.T) {
		// Runs in the red replay too: dryrun rules refuse nothing more.
		o := hs.raw(t, rawReq{method: "POST", uri: v + "/auth", ctype: "application/json", body: []byte(`{"serveraddress":"localhost:1"}`)})
		if o.byPlugin() {
			t.Errorf("POST /auth was refused by dockward: %v", o)
		}
	})
}

// passwdTar is a tar of one file, passwd, that maps app to uid 0.
func passwdTar(t *testing.T) []byte {
	t.Helper()
	body := []byte("root:x:0:0:root:/root:/bin/sh\napp:x:0:0:app:/home/app:/bin/sh\n")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "passwd", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write(body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBypassArchiveNamedUser (issue 11 item 6): `docker cp` into a container
// whose user is a name rewrites what the name means: the daemon resolves
// the name in the container's own rootfs /etc/passwd at every start (not in
// a volume mounted on /etc, which is mounted later: verified on both
// engines, the red replay logs it). The container runs `--user app` (the
// test image maps app to 1000) with a writable rootfs, as one created while
// read_only_rootfs was in dryrun or exempted (the suite puts it in dryrun);
// the red replay shows the next start running as uid 0, which the start
// rules cannot see (they resolve app in the image's passwd).
// archive_named_user refuses the copy.
func TestBypassArchiveNamedUser(t *testing.T) { bypassArchive(t, env(t), false) }

func bypassArchive(t *testing.T, hs *harness, red bool) {
	hs.setModes(t, "dryrun", "read_only_rootfs")
	v := "/v" + hs.apiVersion(t)
	named := replace(without(hardened, "--read-only"), "--user=1000:1000", "--user=app")
	id := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create", "--name", "dw-cp-named", "--label", "dockward-e2e=bypass"}, named...), testImage, "id", "-u")...))
	t.Cleanup(func() { hs.docker(t, "rm", "-f", "-v", id) })
	dir := t.TempDir()
	passwd := func(t *testing.T) string {
		hs.mustDocker(t, "cp", id+":/etc/passwd", dir+"/now")
		b, err := os.ReadFile(dir + "/now")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	orig := passwd(t)
	if !strings.Contains(orig, "app:x:1000:") {
		t.Fatalf("the container does not hold the image's passwd:\n%s", orig)
	}
	if err := os.WriteFile(dir+"/passwd", []byte("root:x:0:0:root:/root:/bin/sh\napp:x:0:0:app:/home/app:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/orig", []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		o    func(t *testing.T) outcome
	}{
		{"docker cp passwd into /etc", func(t *testing.T) outcome { return hs.dockerO(t, "cp", dir+"/passwd", id+":/etc/passwd") }},
		{"raw PUT /containers/x/archive?path=/etc", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "PUT", uri: v + "/containers/" + id + "/archive?path=/etc", ctype: "application/x-tar", body: passwdTar(t)})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.o(t)
			verdict(t, o, red, "archive_named_user")
			now := passwd(t)
			if red {
				if strings.Contains(now, "app:x:0:") {
					out := hs.docker(t, "start", "-a", id)
					t.Logf("REPORT: after the copy, `docker start -a` of the --user app container prints uid %q (%v)", strings.TrimSpace(out.stdout), out)
				}
				// Put the image's passwd back for the next case (the
				// rule is in dryrun: the copy goes through).
				hs.docker(t, "cp", dir+"/orig", id+":/etc/passwd")
				return
			}
			if now != orig {
				t.Errorf("BYPASS: /etc/passwd changed:\n%s\n->\n%s", orig, now)
			}
			if out := hs.docker(t, "start", "-a", id); strings.TrimSpace(out.stdout) != "1000" {
				t.Errorf("the container does not run as uid 1000 after the refused copy: %v", out)
			}
		})
	}
	t.Run("docker cp into a container with a numeric user is allowed", func(t *testing.T) {
		// Runs in the red replay too: dryrun rules refuse nothing more.
		num := hs.compliantContainer(t, "dw-cp-numeric", false)
		if o := hs.dockerO(t, "cp", dir+"/passwd", num+":/tmp/"); o.byPlugin() {
			t.Errorf("a copy into a numeric-user container was refused by dockward: %v", o)
		}
	})
}

// TestBypassCheckpoints (issue 11 item 6): restoring a crafted CRIU image
// restores processes with any credentials; checkpoint create, remove and
// start --checkpoint are admin-only (checkpoint_admin_only), refused
// before the daemon looks at its experimental flag or at CRIU.
func TestBypassCheckpoints(t *testing.T) { bypassCheckpoints(t, env(t), false) }

func bypassCheckpoints(t *testing.T, hs *harness, red bool) {
	v := "/v" + hs.apiVersion(t)
	id := hs.compliantContainer(t, "dw-ckpt", false)
	cases := []struct {
		name string
		rq   rawReq
	}{
		{"checkpoint create", rawReq{method: "POST", uri: v + "/containers/" + id + "/checkpoints", ctype: "application/json", body: []byte(`{"CheckpointID":"c1","Exit":false}`)}},
		{"checkpoint rm", rawReq{method: "DELETE", uri: v + "/containers/" + id + "/checkpoints/c1"}},
		{"start --checkpoint --checkpoint-dir", rawReq{method: "POST", uri: v + "/containers/" + id + "/start?checkpoint=c1&checkpoint-dir=/tmp/dw-crafted"}},
		{"start ?checkpoint-dir= alone", rawReq{method: "POST", uri: v + "/containers/" + id + "/start?checkpoint-dir=/tmp/dw-crafted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := hs.raw(t, c.rq)
			verdict(t, o, red, "checkpoint_admin_only")
			if !red && hs.running(t, id) {
				t.Errorf("BYPASS: the container runs after a refused checkpoint request")
			}
			hs.docker(t, "stop", "-t", "0", id)
		})
	}
}

// TestBypassStartExisting (issue 11 item 6): a container created while a
// rule was in dryrun (or before dockward) is judged again at start and at
// restart, on the configuration the daemon stored; compliant containers,
// named users included, start as before.
func TestBypassStartExisting(t *testing.T) { bypassStartExisting(t, env(t), false) }

func bypassStartExisting(t *testing.T, hs *harness, red bool) {
	made := map[string]string{}
	t.Run("setup: non-compliant containers under a temporary policy edit", func(t *testing.T) {
		hs.setModes(t, "dryrun", "non_root_user", "cap_add_allowlist", "read_only_rootfs")
		for name, flags := range map[string][]string{
			"dw-start-root": without(hardened, "--user=1000:1000"),
			"dw-start-caps": with(hardened, "--cap-add=SYS_ADMIN"),
			"dw-start-rw":   without(hardened, "--read-only"),
		} {
			o := hs.dockerO(t, append(append([]string{"create", "--name", name, "--label", "dockward-e2e=bypass"}, flags...), testImage, "sleep", "300")...)
			if !o.succeeded() {
				t.Fatalf("create %s: %v", name, o)
			}
			made[name] = strings.TrimSpace(o.msg)
		}
	})
	for _, id := range made {
		t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
	}
	cases := []struct {
		name, container, rule string
		verb                  []string
	}{
		{"start of a root container", "dw-start-root", "non_root_user", []string{"start"}},
		{"restart of a stopped root container", "dw-start-root", "non_root_user", []string{"restart", "-t", "0"}},
		{"start of a container with SYS_ADMIN", "dw-start-caps", "cap_add_allowlist", []string{"start"}},
		{"start of a container with a writable rootfs", "dw-start-rw", "read_only_rootfs", []string{"start"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := made[c.container]
			if id == "" {
				t.Fatalf("no container %s: its setup failed", c.container)
			}
			verdict(t, hs.dockerO(t, append(c.verb, id)...), red, c.rule)
			if !red && hs.running(t, id) {
				t.Errorf("BYPASS: %s runs after a refused %s", c.container, c.verb[0])
			}
			hs.docker(t, "stop", "-t", "0", id)
		})
	}
	t.Run("compliant containers start and restart", func(t *testing.T) {
		// Runs in the red replay too: dryrun rules refuse nothing more.
		for _, extra := range [][]string{nil, {"--user=app"}} {
			name := "dw-start-ok"
			flags := hardened
			if extra != nil {
				name, flags = "dw-start-app", replace(hardened, "--user=1000:1000", extra...)
			}
			id := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create", "--name", name, "--label", "dockward-e2e=bypass"}, flags...), testImage, "sleep", "300")...))
			t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
			for _, verb := range [][]string{{"start"}, {"restart", "-t", "0"}} {
				if o := hs.dockerO(t, append(verb, id)...); o.byPlugin() {
					t.Errorf("%s %s refused by dockward: %v", verb[0], name, o)
				}
			}
		}
	})
}

// dockerEnvO is dockerO with extra environment (DOCKER_BUILDKIT).
func (hs *harness) dockerEnvO(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := hs.dockerCmd(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	o := outcome{via: "cli", what: strings.Join(env, " ") + " " + strings.Join(args, " "), msg: stderr.String() + stdout.String()}
	if err != nil {
		o.code = 1
		if ee, ok := err.(interface{ ExitCode() int }); ok && ctx.Err() == nil {
			o.code = ee.ExitCode()
		}
	}
	return o
}

// TestBypassBuildTrust (issue 11 item 3): with image trust on, a build
// makes a trusted name from any Dockerfile (and pulls its FROM images
// inside the daemon); image_mint_admin_only refuses builds by non-admins,
// through the legacy builder and through BuildKit (POST /build?version=2,
// after /session).
func TestBypassBuildTrust(t *testing.T) { bypassBuildTrust(t, env(t), false) }

func bypassBuildTrust(t *testing.T, hs *harness, red bool) {
	hs.editData(t, func(cfg map[string]any) {
		params, _ := cfg["params"].(map[string]any)
		params["allowed_images"] = []string{"dockward-test"}
	})
	v := "/v" + hs.apiVersion(t)
	dir := t.TempDir()
	dockerfile := "FROM scratch\nLABEL dockward-e2e=bypass\n"
	if err := os.WriteFile(dir+"/Dockerfile", []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	trusted := "dockward-test:minted"
	cases := []struct {
		name string
		o    func(t *testing.T) outcome
	}{
		{"DOCKER_BUILDKIT=0 docker build -t <trusted>", func(t *testing.T) outcome {
			return hs.dockerEnvO(t, []string{"DOCKER_BUILDKIT=0"}, "build", "-t", trusted, dir)
		}},
		{"DOCKER_BUILDKIT=1 docker build -t <trusted>", func(t *testing.T) outcome {
			return hs.dockerEnvO(t, []string{"DOCKER_BUILDKIT=1"}, "build", "-t", trusted, dir)
		}},
		{"raw POST /build?t=<trusted>", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/build?t=" + trusted, ctype: "application/x-tar", body: buildContext(t, dockerfile)})
		}},
		{"raw POST /build?version=2&t=<trusted>", func(t *testing.T) outcome {
			return hs.raw(t, rawReq{method: "POST", uri: v + "/build?version=2&t=" + trusted + "&session=dw-none&buildid=dw-e2e", ctype: "application/x-tar"})
		}},
		{"untagged build (it still pulls FROM images)", func(t *testing.T) outcome {
			return hs.dockerEnvO(t, []string{"DOCKER_BUILDKIT=0"}, "build", "-q", dir)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hs.imageSet(t)
			o := c.o(t)
			if red {
				verdict(t, o, true, "image_mint_admin_only")
				hs.docker(t, "rmi", "-f", trusted)
				return
			}
			if strings.Contains(o.msg, "BuildKit is enabled but the buildx component is missing") {
				t.Skipf("this CLI cannot build with BuildKit: %v", o)
			}
			expectRefused(t, o, "image_mint_admin_only")
			if now := hs.imageSet(t); now != before {
				t.Errorf("BYPASS: images changed by a refused build:\n%s\n->\n%s", before, now)
			}
		})
	}
}
