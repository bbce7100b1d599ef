//go:build e2e

package e2e

// Issue 11 items 7, 8, 9, 10, 12 and 13: requests dockward read
// differently from the daemon. Each "fact:" subtest shows on the engine
// what the daemon really does with the request (with the guarding rules in
// dryrun, so dockward lets it through); each case then must be refused,
// and in the red replay (TestBypassGuardsCanTurnRed) passes.

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBypassView: see the file comment.
func TestBypassView(t *testing.T) { bypassView(t, env(t), false) }

// viewRules are the rules this suite's cases name.
var viewRules = []string{"loopback_ports", "non_root_user", "exec_non_root_user", "volume_host_path", "host_mounts",
	"no_unconfined_profiles", "update_limits", "no_annotations", "no_unsafe_ulimits"}

// importPasswdImage imports the test image's busybox with the given
// /etc/passwd (and docker import --change instructions), removed at t's
// cleanup. The import goes through the plugin.
func (hs *harness) importPasswdImage(t *testing.T, name, passwd string, changes ...string) {
	t.Helper()
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(hdr *tar.Header, body []byte) {
		hdr.Size = int64(len(body))
		_ = tw.WriteHeader(hdr)
		_, _ = tw.Write(body)
	}
	for _, d := range []string{"bin/", "etc/", "tmp/"} {
		add(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o1777}, nil)
	}
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, busybox)
	for _, l := range []string{"sh", "true", "id", "cat", "sleep", "ls"} {
		add(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	add(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, []byte(passwd))
	add(&tar.Header{Name: "etc/group", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("root:x:0:\napp:x:1000:\n"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	args = append(args, "-", name)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := hs.dockerCmd(ctx, args...)
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker %v: %v\n%s", args, err, out)
	}
	t.Cleanup(func() { hs.docker(t, "rmi", "-f", name) })
}

// lastLine is the last non-empty line of s (the output of `id -u`).
func lastLine(s string) string {
	lines := strings.Fields(strings.TrimSpace(s))
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

func bypassView(t *testing.T, hs *harness, red bool) {
	// /etc relative to dockerd's working directory, whatever it is.
	relEtc := strings.Repeat("../", 16) + "etc"
	const rootApp = "dw-view:rootapp"
	// moby/sys/user: an empty uid field is 0 and the first line wins.
	hs.importPasswdImage(t, rootApp, "root:x:0:0:root:/root:/bin/sh\napp:x::0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n")

	t.Run("setup: objects made while the policy let them through", func(t *testing.T) {
		hs.setModes(t, "dryrun", viewRules...)
		hs.mustDocker(t, "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device="+relEtc, "dw-view-relvol")
		hs.mustDocker(t, append(append([]string{"create", "--name", "dw-view-binder", "--label", "dockward-e2e=bypass", "-v", "/etc:/hostetc:ro"}, hardened...), testImage, "sleep", "300")...)
		// A peer with no bind of its own: its volumes come from the binder.
		hs.mustDocker(t, append(append([]string{"create", "--name", "dw-view-hop", "--label", "dockward-e2e=bypass", "--volumes-from", "dw-view-binder"}, hardened...), testImage, "sleep", "300")...)
		// A peer whose only host path is a named volume.
		hs.mustDocker(t, append(append([]string{"create", "--name", "dw-view-volowner", "--label", "dockward-e2e=bypass", "-v", "dw-view-relvol:/m"}, hardened...), testImage, "sleep", "300")...)
	})
	t.Cleanup(func() {
		for _, c := range []string{"dw-view-hop", "dw-view-binder", "dw-view-volowner"} {
			hs.docker(t, "rm", "-f", c)
		}
		hs.docker(t, "volume", "rm", "-f", "dw-view-relvol")
	})

	if !red {
		t.Run("fact: a relative device binds dockerd's cwd-relative path (here /etc)", func(t *testing.T) {
			hs.setModes(t, "dryrun", viewRules...)
			o := hs.docker(t, runArgs(with(hardened, "-v", "dw-view-relvol:/mnt:ro"), "cat", "/mnt/hostname")...)
			host, _ := os.ReadFile("/etc/hostname")
			if o.code != 0 || strings.TrimSpace(o.stdout) != strings.TrimSpace(string(host)) {
				t.Errorf("the volume is not the host's /etc: %v (host /etc/hostname %q)", o, host)
			}
		})
		t.Run("fact: the runtime reads app as uid 0 (empty uid field, first line wins)", func(t *testing.T) {
			hs.setModes(t, "dryrun", viewRules...)
			o := hs.docker(t, append(append([]string{"run", "--rm"}, replace(hardened, "--user", "--user=app")...), rootApp, "id", "-u")...)
			if o.code != 0 || lastLine(o.stdout) != "0" {
				t.Errorf("want uid 0 from the runtime: %v", o)
			}
		})
		t.Run("fact: a volume over /etc does not change what a user name means", func(t *testing.T) {
			// The daemon resolves --user NAME in the container's root
			// filesystem before mounts (daemon/oci_linux.go getUser on
			// BaseFS), so a volume at /etc whose passwd makes app root
			// does not: the runtime keeps the image's uid.
			hs.setModes(t, "dryrun", viewRules...)
			vol := "dw-view-evil"
			t.Cleanup(func() { hs.docker(t, "volume", "rm", "-f", vol) })
			w := hs.docker(t, append(append([]string{"run", "--rm", "-v", vol + ":/v"}, replace(hardened, "--user", "--user=0")...),
				testImage, "sh", "-c", "echo app:x:0:0::/:/bin/sh > /v/passwd && echo app:x:0: > /v/group")...)
			if w.code != 0 {
				t.Fatalf("cannot write the volume: %v", w)
			}
			o := hs.docker(t, append(append([]string{"run", "--rm", "-v", vol + ":/etc"}, replace(hardened, "--user", "--user=app")...), testImage, "sh", "-c", "id -u; cat /etc/passwd")...)
			if o.code != 0 || !strings.Contains(o.stdout, "app:x:0:0") {
				t.Fatalf("the volume is not at /etc: %v", o)
			}
			if got := strings.Fields(o.stdout)[0]; got != "1000" {
				t.Errorf("with a passwd volume at /etc, --user app ran as uid %s (want the image's 1000): %v", got, o)
			}
			// docker exec -u app resolves the same way.
			id := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"run", "-d", "--label", "dockward-e2e=bypass", "-v", vol + ":/etc"}, hardened...), testImage, "sleep", "300")...))
			ex := hs.docker(t, "exec", "-u", "app", id, "id", "-u")
			hs.docker(t, "rm", "-f", id)
			if ex.code != 0 || lastLine(ex.stdout) != "1000" {
				t.Errorf("with a passwd volume at /etc, exec -u app: %v (want the image's 1000)", ex)
			}
			// A bind of a file at /etc/passwd and a tmpfs at /etc, the same.
			dir := t.TempDir()
			evil := filepath.Join(dir, "passwd")
			if err := os.WriteFile(evil, []byte("app:x:0:0::/:/bin/sh\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, m := range [][]string{{"-v", evil + ":/etc/passwd:ro"}, {"--tmpfs", "/etc"}} {
				o := hs.docker(t, append(append(append([]string{"run", "--rm"}, m...), replace(hardened, "--user", "--user=app")...), testImage, "id", "-u")...)
				if o.code != 0 || lastLine(o.stdout) != "1000" {
					t.Errorf("with %v, --user app: %v (want uid 1000)", m, o)
				}
			}
		})
		t.Run("fact: exec -u app runs as the runtime reads app (0)", func(t *testing.T) {
			hs.setModes(t, "dryrun", viewRules...)
			id := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"run", "-d", "--label", "dockward-e2e=bypass"}, hardened...), rootApp, "sleep", "300")...))
			t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
			if o := hs.docker(t, "exec", "-u", "app", id, "id", "-u"); o.code != 0 || lastLine(o.stdout) != "0" {
				t.Errorf("want uid 0: %v", o)
			}
		})
		t.Run("fact: --ulimit memlock=-1 gives the container unlimited locked memory", func(t *testing.T) {
			hs.setModes(t, "dryrun", viewRules...)
			o := hs.docker(t, runArgs(with(hardened, "--ulimit", "memlock=-1:-1"), "sh", "-c", "ulimit -l")...)
			if strings.Contains(o.stderr, "error setting rlimit") {
				// This sandbox's dockerd may not raise rlimits (no
				// CAP_SYS_RESOURCE): the runtime tried, which is the point.
				t.Skipf("the runtime cannot raise rlimits in this sandbox: %v", o)
			}
			if o.code != 0 || lastLine(o.stdout) != "unlimited" {
				t.Errorf("want unlimited: %v", o)
			}
		})
		t.Run("fact: an empty port binding list publishes on all interfaces", func(t *testing.T) {
			// The harness's dockerd has no default bridge (--bridge=none):
			// publish from a bridge network of the test's own.
			hs.setModes(t, "dryrun", viewRules...)
			if r := hs.docker(t, "network", "create", "dw-view-net"); r.code != 0 {
				t.Skipf("cannot create a bridge network here: %v", r)
			}
			t.Cleanup(func() { hs.docker(t, "network", "rm", "dw-view-net") })
			// [{}] is what the daemon backfills (and the CLI's -p 80 sends):
			// the control that publishing works here at all.
			for _, pb := range []string{`[{}]`, `[]`, `null`} {
				o := hs.raw(t, rawReq{method: "POST", uri: "/containers/create?name=dw-view-port", ctype: "application/json",
					body: exposed(createBody(hardenedHostConfig + `,"NetworkMode":"dw-view-net","PortBindings":{"80/tcp":` + pb + `}`))})
				if !o.succeeded() {
					t.Fatalf("create: %v", o)
				}
				start := hs.docker(t, "start", "dw-view-port")
				port := hs.docker(t, "port", "dw-view-port")
				stored := hs.hostConfigField(t, "dw-view-port", "PortBindings")
				hs.docker(t, "rm", "-f", "dw-view-port")
				t.Logf("PortBindings %s: stored %s; start: %v; docker port: %q", pb, stored, start, port.stdout)
				// Published on all interfaces: docker port says so, or the
				// start failed setting up exactly that (the current
				// engine's dockerd finds no docker-proxy here, and names
				// the mapping 0.0.0.0:<port> it was starting).
				published := strings.Contains(port.stdout, "0.0.0.0:") ||
					(start.code != 0 && strings.Contains(start.stderr, "port mapping 0.0.0.0:"))
				if pb == `[{}]` && !published {
					// The harness's dockerd runs with --iptables=false.
					t.Skipf("this daemon publishes no port even for the control [{}]: cannot show it here")
				}
				if !published {
					t.Errorf("PortBindings %s: docker port says %q, want 0.0.0.0", pb, port.stdout)
				}
			}
		})
	}

	// item 8: a container created from an image without USER (root), then
	// the tag moved to an image whose USER is 1000.
	t.Run("exec without -u into a root container whose tag now has a non-root USER", func(t *testing.T) {
		const tag = "dw-view:retag"
		hs.importPasswdImage(t, tag, "root:x:0:0::/:/bin/sh\n")
		var id string
		t.Run("setup: the root container, under a dryrun edit", func(t *testing.T) {
			hs.setModes(t, "dryrun", viewRules...)
			id = strings.TrimSpace(hs.mustDocker(t, append(append([]string{"run", "-d", "--label", "dockward-e2e=bypass"}, without(hardened, "--user")...), tag, "sleep", "300")...))
		})
		t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
		hs.importPasswdImage(t, tag, "root:x:0:0::/:/bin/sh\n", "USER 1000")
		o := hs.dockerO(t, "exec", id, "id", "-u")
		verdict(t, o, red, "exec_non_root_user")
		if red && o.succeeded() && lastLine(o.msg) != "0" {
			t.Errorf("the exec ran as %q, want 0 (root):\n%v", lastLine(o.msg), o)
		}
	})

	t.Run("item 9: exec -u app where the runtime reads app as 0", func(t *testing.T) {
		var id string
		t.Run("setup: the container, under a dryrun edit", func(t *testing.T) {
			hs.setModes(t, "dryrun", viewRules...)
			id = strings.TrimSpace(hs.mustDocker(t, append(append([]string{"run", "-d", "--label", "dockward-e2e=bypass"}, hardened...), rootApp, "sleep", "300")...))
		})
		t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
		o := hs.dockerO(t, "exec", "-u", "app", id, "id", "-u")
		verdict(t, o, red, "exec_non_root_user")
	})

	seccomp := filepath.Join(t.TempDir(), "allow.json")
	if err := os.WriteFile(seccomp, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	logProfile := filepath.Join(t.TempDir(), "log.json")
	if err := os.WriteFile(logProfile, []byte(`{"defaultAction":"SCMP_ACT_LOG"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, rule string
		args       []string // docker arguments
		stored     func(t *testing.T, id string)
	}{
		{"item 9: --user app where the runtime reads app as 0", "non_root_user",
			append(append([]string{"create"}, replace(hardened, "--user", "--user=app")...), rootApp, "id", "-u"), nil},
		{"item 10: volume create o=bind with a relative device", "volume_host_path",
			[]string{"volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=" + relEtc, "dw-view-v1"}, nil},
		{"item 10: volume create of a block device", "volume_host_path",
			[]string{"volume", "create", "--opt", "type=ext4", "--opt", "device=/dev/sda1", "dw-view-v2"}, nil},
		{"item 10: volume create of an overlay with /etc as lowerdir", "volume_host_path",
			[]string{"volume", "create", "--opt", "type=overlay", "--opt", "device=overlay", "--opt", "o=lowerdir=/etc,upperdir=/tmp/dw-u,workdir=/tmp/dw-w", "dw-view-v3"}, nil},
		{"item 10: -v of a pre-made volume with a relative bind device", "host_mounts",
			append(append([]string{"create"}, with(hardened, "-v", "dw-view-relvol:/mnt")...), testImage, "true"), nil},
		{"item 10: --mount type=volume with a block device", "host_mounts",
			append(append([]string{"create"}, with(hardened, "--mount", "type=volume,dst=/mnt,volume-opt=type=ext4,volume-opt=device=/dev/sda1")...), testImage, "true"), nil},
		{"item 12: --volumes-from a container whose volumes come from one with a host bind", "host_mounts",
			append(append([]string{"create"}, with(hardened, "--volumes-from", "dw-view-hop")...), testImage, "true"),
			func(t *testing.T, id string) {
				if !strings.Contains(hs.mustDocker(t, "inspect", "--format", "{{json .Mounts}}", id), `"/etc"`) {
					t.Errorf("the daemon did not hand the binder's /etc on")
				}
			}},
		{"item 12: --volumes-from a container whose named volume binds /etc", "host_mounts",
			append(append([]string{"create"}, with(hardened, "--volumes-from", "dw-view-volowner")...), testImage, "true"), nil},
		{"item 13: inline seccomp profile that allows by default", "no_unconfined_profiles",
			append(append([]string{"create"}, with(hardened, "--security-opt", "seccomp="+seccomp)...), testImage, "true"),
			func(t *testing.T, id string) {
				if f := hs.hostConfigField(t, id, "SecurityOpt"); !strings.Contains(f, "SCMP_ACT_ALLOW") {
					t.Errorf("stored SecurityOpt %s", f)
				}
			}},
		{"item 13: inline seccomp profile that only logs", "no_unconfined_profiles",
			append(append([]string{"create"}, with(hardened, "--security-opt", "seccomp="+logProfile)...), testImage, "true"), nil},
		{"item 13: label=type:spc_t", "no_unconfined_profiles",
			append(append([]string{"create"}, with(hardened, "--security-opt", "label=type:spc_t")...), testImage, "true"), nil},
		{"item 13: --ulimit memlock unlimited", "no_unsafe_ulimits",
			append(append([]string{"create"}, with(hardened, "--ulimit", "memlock=-1:-1")...), testImage, "true"),
			func(t *testing.T, id string) {
				if f := hs.hostConfigField(t, id, "Ulimits"); !strings.Contains(f, "memlock") {
					t.Errorf("stored Ulimits %s", f)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hs.snap(t)
			o := hs.dockerO(t, c.args...)
			verdict(t, o, red, c.rule)
			if red && o.succeeded() && c.stored != nil && c.args[0] == "create" {
				c.stored(t, lastLine(o.msg))
			}
			hs.settle(t, before, red)
		})
	}

	// Sent raw: 20.10's CLI has no --annotation (its daemon, API 1.41,
	// ignores the field; API 1.43+ hands it to the runtime).
	t.Run("item 13: a runtime annotation", func(t *testing.T) {
		before := hs.snap(t)
		o := hs.raw(t, rawReq{method: "POST", uri: "/containers/create", ctype: "application/json",
			body: createBody(hardenedHostConfig + `,"Annotations":{"org.systemd.property.TasksMax":"infinity"}`)})
		verdict(t, o, red, "no_annotations")
		if red && o.succeeded() && hs.apiVersion(t) >= "1.43" {
			id := strings.Split(strings.Split(o.msg, `"Id":"`)[1], `"`)[0]
			if f := hs.hostConfigField(t, id, "Annotations"); !strings.Contains(f, "org.systemd.property.TasksMax") {
				t.Errorf("stored Annotations %s", f)
			}
		}
		hs.settle(t, before, red)
	})

	t.Run("item 7: PortBindings with an empty list", func(t *testing.T) {
		for _, pb := range []string{`[]`, `null`} {
			before := hs.snap(t)
			o := hs.raw(t, rawReq{method: "POST", uri: "/containers/create", ctype: "application/json",
				body: exposed(createBody(hardenedHostConfig + `,"PortBindings":{"80/tcp":` + pb + `}`))})
			verdict(t, o, red, "loopback_ports")
			hs.settle(t, before, red)
		}
	})

	// item 13: a container limited by quota; a new period lifts it.
	t.Run("item 13: docker update --cpu-period lifting a --cpu-quota", func(t *testing.T) {
		q := hs.compliantContainerQuota(t)
		o := hs.dockerO(t, "update", "--cpu-period", "1000", q)
		verdict(t, o, red, "update_limits")
		period := hs.hostConfigField(t, q, "CpuPeriod")
		if red && o.succeeded() && period != "1000" {
			t.Errorf("stored CpuPeriod %s, want 1000", period)
		}
		if !red && period == "1000" {
			t.Errorf("BYPASS: the period was updated")
		}
	})
}

// exposed adds ExposedPorts 80/tcp to a create body, as the CLI sends
// with -p (20.10 publishes only exposed ports).
func exposed(body []byte) []byte {
	return bytes.Replace(body, []byte(`{"Image":`), []byte(`{"ExposedPorts":{"80/tcp":{}},"Image":`), 1)
}

// compliantContainerQuota creates a hardened container limited by
// --cpu-quota 50000 (0.5 CPU) instead of --cpus.
func (hs *harness) compliantContainerQuota(t *testing.T) string {
	t.Helper()
	args := append([]string{"create", "--name", "dw-view-cpuquota", "--label", "dockward-e2e=bypass"}, without(hardened, "--cpus")...)
	args = append(args, "--cpu-quota", "50000", testImage, "sleep", "300")
	id := strings.TrimSpace(hs.mustDocker(t, args...))
	t.Cleanup(func() { hs.docker(t, "rm", "-f", id) })
	return id
}
