//go:build e2e

package e2e

// The bare daemon of the differential oracle (oracle_test.go): an isolated
// dockerd of the harness's engine with no authorization plugin, its own
// bridge (so published ports really publish) and a veth pair for macvlan
// networks, plus the images and objects the corpus refers to.

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Host interfaces the oracle creates (and deletes): dwf* is helper F's
// prefix, so parallel checkouts do not collide.
const (
	oracleBridge     = "dwfbr0"
	oracleBridgeCIDR = "10.213.77.1/24"
	oracleVethParent = "dwf0" // macvlan parent
	oracleVethPeer   = "dwf1"
)

// ip runs ip(8) and fails the test on error.
func ipLink(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// linkExists reports whether a network interface exists.
func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// startBareDaemon starts a dockerd with no authorization plugin under its
// own temporary directory; it is stopped (and the interfaces deleted) at
// t's cleanup.
func startBareDaemon(t *testing.T) *harness {
	t.Helper()
	if os.Geteuid() != 0 {
		if _, skip, err := skipOrFail("the oracle needs root (it starts dockerd)"); skip != "" {
			t.Skip(skip)
		} else {
			t.Fatal(err)
		}
	}
	hs := &harness{}
	if skip, err := hs.selectEngine(); skip != "" {
		t.Skip(skip)
	} else if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{oracleBridge, oracleVethParent} {
		if linkExists(l) { // left by a run that was killed
			ipLink(t, "link", "del", l)
		}
	}
	ipLink(t, "link", "add", oracleBridge, "type", "bridge")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", oracleBridge).Run() })
	ipLink(t, "addr", "add", oracleBridgeCIDR, "dev", oracleBridge)
	ipLink(t, "link", "set", oracleBridge, "up")
	ipLink(t, "link", "add", oracleVethParent, "type", "veth", "peer", "name", oracleVethPeer)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", oracleVethParent).Run() })
	ipLink(t, "link", "set", oracleVethParent, "up")

	dir, err := os.MkdirTemp("/tmp", "dw-o-")
	if err != nil {
		t.Fatal(err)
	}
	hs.dir = dir
	hs.dockerSock = filepath.Join(dir, "docker.sock")
	hs.daemonLog = filepath.Join(dir, "dockerd.log")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bare dockerd log:\n%s", tailNoDebug(hs.daemonLog, 30))
		}
		if err := hs.teardown(); err != nil {
			t.Errorf("stop the bare daemon: %v", err)
		}
	})
	// The last --bridge wins over the harness's --bridge=none: the default
	// network is ours, so `-p` publishes as on a normal host.
	flags := []string{"--bridge=" + oracleBridge}
	if hs.engine == "current" {
		// The current engine needs a docker-proxy of its own version,
		// which the sandbox lacks; without the proxy it still allocates
		// and records the bindings it publishes (NetworkSettings.Ports).
		flags = append(flags, "--userland-proxy=false")
	}
	if _, err := hs.startDockerd("dockerd-bare", "", "", flags...); err != nil {
		if !strings.Contains(tail(hs.daemonLog, 200), "containerd") {
			t.Fatal(err)
		}
		if err := hs.resetDaemonDirs(); err != nil {
			t.Fatal(err)
		}
		addr, err := hs.startContainerd()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hs.startDockerd("dockerd-bare", "", addr, flags...); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := hs.dockerCmd(ctx, "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})").Output()
	if err != nil {
		t.Fatalf("docker version: %v", err)
	}
	hs.versions = strings.TrimSpace(string(out))
	if err := hs.importImage(); err != nil {
		t.Fatal(err)
	}
	return hs
}

// importOracleImage imports the test image's files under another name with
// its own /etc/passwd and Dockerfile changes (USER app), for the user
// cases: the image's USER and the runtime's reading of /etc/passwd.
func (hs *harness) importOracleImage(t *testing.T, name, passwd string, changes ...string) {
	t.Helper()
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("busybox-static is needed for the test image: %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(hdr *tar.Header, body []byte) {
		hdr.ModTime = time.Unix(0, 0)
		hdr.Size = int64(len(body))
		_ = tw.WriteHeader(hdr)
		_, _ = tw.Write(body)
	}
	for _, d := range []string{"bin/", "etc/", "tmp/"} {
		add(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o1777}, nil)
	}
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, busybox)
	for _, l := range []string{"sh", "cat", "sleep", "id", "true"} {
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
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := hs.dockerCmd(ctx, append(args, "-", name)...)
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", name, err, out)
	}
}

// pidOf is the pid of the process we started under name.
func (hs *harness) pidOf(name string) (int, error) {
	for _, p := range hs.procs {
		if p.name == name && !p.exited() {
			return p.cmd.Process.Pid, nil
		}
	}
	return 0, fmt.Errorf("%s is not running", name)
}
