//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// managedName is the managed plugin TestManagedPlugin builds and enables.
const managedName = "dockward:e2e"

// TestManagedPlugin packages dockward with install/build-plugin.sh as a
// managed plugin (docker plugin create) on a daemon of its own, enables it,
// restarts the daemon with --authorization-plugin=dockward:e2e and drives
// it with the docker CLI. It shares nothing with the package harness: not
// its daemon, not the legacy plugin socket (a managed plugin's socket is
// /run/docker/plugins/<plugin id>/dockward.sock).
func TestManagedPlugin(t *testing.T) {
	start := time.Now()
	m, skip, err := newManaged(t)
	if skip != "" {
		t.Skip(skip)
	}
	if err != nil {
		t.Fatalf("managed plugin e2e: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the dockerd log (%s; the plugin's output is in it):\n%s", m.daemonLog, tailNoDebug(m.daemonLog, 60))
		}
		if err := m.managedTeardown(); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})

	// 1. A daemon without any authorization plugin.
	d, err := m.startManagedDaemon("")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dockerd up (%s, %s) in %s; dir %s", m.versions, m.ctdMode, time.Since(start).Round(time.Millisecond), m.dir)

	// 2. Package and create the plugin with the installer script.
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pdir := filepath.Join(m.dir, "plugin")
	cmd := exec.Command(filepath.Join(root, "install", "build-plugin.sh"), "--version", "e2e", "--dir", pdir)
	cmd.Dir = root
	cmd.Env = append(m.dockerCmd(context.Background()).Env,
		"DOCKER="+m.cli+" -H unix://"+m.dockerSock, "GO="+goTool())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install/build-plugin.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"docker -H unix://" + m.dockerSock + " plugin enable " + managedName, `"authorization-plugins": ["` + managedName + `"]`, "plugin rm " + managedName, "/host"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("build-plugin.sh's next steps do not mention %q:\n%s", want, out)
		}
	}
	t.Logf("plugin created in %s", time.Since(start).Round(time.Millisecond))

	// 3. Point its mounts at our files, enable it.
	src, err := policySource()
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, m.policyDir); err != nil {
		t.Fatalf("copy policies: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(m.auditLog), 0o700); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(m.dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	m.mustDocker(t, "plugin", "set", managedName,
		"policies.source="+m.policyDir,
		"audit.source="+filepath.Dir(m.auditLog),
		"state.source="+state,
		"docker.source="+m.dockerSock)
	m.pluginID = strings.TrimSpace(m.mustDocker(t, "plugin", "inspect", "--format", "{{.Id}}", managedName))
	if r := m.docker(t, "plugin", "enable", managedName); r.code != 0 {
		t.Fatalf("docker plugin enable %s failed: the managed plugin cannot run on this machine:\n%v\n%s",
			managedName, r, pluginDiagnosis(m.daemonLog))
	}
	if err := m.importImage(); err != nil {
		t.Fatal(err)
	}
	// The ownership store and the control socket live on the state mount,
	// so they survive an upgrade and dockward own reaches them from the host.
	for _, f := range []string{"owners.db", "control.sock"} {
		if _, err := os.Stat(filepath.Join(state, f)); err != nil {
			t.Errorf("the managed plugin's %s is not on its state mount: %v", f, err)
		}
	}
	t.Logf("plugin %s (id %.12s) enabled, test image imported in %s", managedName, m.pluginID, time.Since(start).Round(time.Millisecond))

	// 4. Restart the daemon with the managed plugin in front of it.
	d.stop(30 * time.Second)
	if _, err := m.startManagedDaemon(managedName); err != nil {
		t.Fatalf("%v\n%s", err, pluginDiagnosis(m.daemonLog))
	}
	t.Logf("dockerd restarted with --authorization-plugin=%s in %s", managedName, time.Since(start).Round(time.Millisecond))

	t.Run("non-hardened run denied", func(t *testing.T) {
		dn := expectDenied(t, m.docker(t, runArgs(without(hardened, "--read-only"), "true")...))
		if !strings.Contains(dn.stderr, "[read_only_rootfs]") {
			t.Fatalf("want [read_only_rootfs] in the CLI error:\n%s", dn.stderr)
		}
		if strings.Contains(dn.stderr, "plugin "+managedName+" failed") {
			t.Fatalf("the plugin errored instead of deciding:\n%s", dn.stderr)
		}
	})

	t.Run("hardened run allowed", func(t *testing.T) {
		m.runAllowed(t, hardened)
	})

	t.Run("host symlink to /etc denied through /host", func(t *testing.T) {
		link := filepath.Join(m.dir, "etc-link")
		if err := os.Symlink("/etc", link); err != nil {
			t.Fatal(err)
		}
		dn := expectDenied(t, m.docker(t, runArgs(with(hardened, "-v", link+":/mnt:ro"), "true")...))
		if !strings.Contains(dn.stderr, "[host_mounts]") || !strings.Contains(dn.stderr, "resolves to /etc") {
			t.Fatalf("want [host_mounts] with %q (the rooted resolver inside the plugin):\n%s", "resolves to /etc", dn.stderr)
		}
	})

	t.Run("plugin disable denied", func(t *testing.T) {
		dn := expectDenied(t, m.docker(t, "plugin", "disable", managedName))
		if !strings.Contains(dn.stderr, "[plugin_admin_only]") {
			t.Fatalf("want [plugin_admin_only]:\n%s", dn.stderr)
		}
		if st := strings.TrimSpace(m.mustDocker(t, "plugin", "inspect", "--format", "{{.Enabled}}", managedName)); st != "true" {
			t.Fatalf("plugin enabled = %s after a denied disable", st)
		}
	})

	if b, err := os.ReadFile(m.auditLog); err != nil || !strings.Contains(string(b), `"read_only_rootfs"`) {
		t.Errorf("the plugin's audit log %s (mounted from the host) lacks the denial: %v\n%s", m.auditLog, err, b)
	}
	t.Logf("managed plugin e2e on %s: %s", m.engine, time.Since(start).Round(time.Millisecond))
}

// managed is a daemon and a managed plugin of the test's own; the embedded
// harness is never the package's h.
type managed struct {
	*harness
	pluginID string // set once the plugin exists
	ctdAddr  string // our containerd, when the managed one failed
}

// newManaged prepares the test's own harness value.
func newManaged(t *testing.T) (*managed, string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		_, skip, err := skipOrFail("the managed plugin e2e test needs root (it starts dockerd)")
		return nil, skip, err
	}
	m := &managed{harness: &harness{}}
	if skip, err := m.selectEngine(); skip != "" || err != nil {
		return nil, skip, err
	}
	// A short directory of our own: the daemon's sockets live under it.
	for i := 0; ; i++ {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		dir := "/tmp/dw-m-" + hex.EncodeToString(b)
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			m.dir = dir
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return nil, "", err
		}
	}
	m.dockerSock = filepath.Join(m.dir, "docker.sock")
	m.policyDir = filepath.Join(m.dir, "policies")
	m.auditLog = filepath.Join(m.dir, "audit", "audit.log")
	m.daemonLog = filepath.Join(m.dir, "dockerd.log")
	return m, "", nil
}

// startManagedDaemon starts dockerd, with authz as its authorization plugin
// when not empty, and waits until the CLI reaches it. The first start tries
// the daemon's managed containerd and falls back to our own; later starts
// use whichever worked.
func (m *managed) startManagedDaemon(authz string) (*proc, error) {
	p, err := m.tryManagedDaemon(authz)
	if err == nil || m.ctdAddr != "" || !strings.Contains(tail(m.daemonLog, 200), "containerd") {
		return p, err
	}
	fmt.Fprintf(os.Stderr, "e2e: dockerd with its managed containerd failed (%v); retrying with our own containerd\n", err)
	if err := m.resetDaemonDirs(); err != nil {
		return nil, err
	}
	if m.ctdAddr, err = m.startContainerd(); err != nil {
		return nil, err
	}
	return m.tryManagedDaemon(authz)
}

func (m *managed) tryManagedDaemon(authz string) (*proc, error) {
	m.ctdMode = "with its managed containerd"
	if m.ctdAddr != "" {
		m.ctdMode = "with our containerd at " + m.ctdAddr
	}
	p, err := m.startDockerd("dockerd", authz, m.ctdAddr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := m.dockerCmd(ctx, "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}").Output()
	if err != nil {
		return nil, fmt.Errorf("docker version: %w", err)
	}
	m.versions = strings.TrimSpace(string(out))
	return p, nil
}

// managedTeardown stops what we started, by PID (a daemon configured with
// an enabled plugin cannot be asked to remove it), then removes our plugin's
// runtime directory and our temporary directory.
func (m *managed) managedTeardown() error {
	for i := len(m.procs) - 1; i >= 0; i-- {
		m.procs[i].stop(30 * time.Second)
	}
	m.procs = nil
	var errs []error
	if m.pluginID != "" && !strings.ContainsAny(m.pluginID, "/.") {
		// The plugin exec root is fixed at /run/docker/plugins on Linux;
		// only our plugin's own directory is touched.
		pdir := filepath.Join("/run/docker/plugins", m.pluginID)
		unmountUnder(pdir)
		if err := os.RemoveAll(pdir); err != nil {
			errs = append(errs, err)
		}
	}
	unmountUnder(m.dir)
	if err := os.RemoveAll(m.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", m.dir, err))
	}
	return errors.Join(errs...)
}

// pluginDiagnosis picks the daemon's log lines about the plugin and the
// runtime, which say why a managed plugin did not start.
func pluginDiagnosis(daemonLog string) string {
	var keep []string
	for _, line := range strings.Split(tail(daemonLog, 2000), "\n") {
		l := strings.ToLower(line)
		if strings.Contains(l, "plugin") || strings.Contains(l, "runc") || strings.Contains(l, "oci runtime") || strings.Contains(l, "cgroup") || strings.Contains(l, "mount") {
			if !strings.Contains(line, "level=debug") {
				keep = append(keep, line)
			}
		}
	}
	if len(keep) > 40 {
		keep = keep[len(keep)-40:]
	}
	return "dockerd log lines about the plugin and the runtime:\n" + strings.Join(keep, "\n")
}
