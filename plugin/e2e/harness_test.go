//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pluginName is the legacy plugin the package's daemon uses, and its socket
// (dockerd looks legacy plugins up at a fixed path). DOCKWARD_E2E_PLUGIN
// names another (dockward-<suffix>), so that suites in several checkouts
// can run at once; the daemon's refusals still read "authorization denied
// by plugin dockward…".
var (
	pluginName   = e2ePluginName()
	pluginSocket = "/run/docker/plugins/" + pluginName + ".sock"
)

func e2ePluginName() string {
	if n := os.Getenv("DOCKWARD_E2E_PLUGIN"); strings.HasPrefix(n, "dockward-") {
		return n
	}
	return "dockward"
}

const (
	testImage    = "dockward-test:busybox"
	deniedPrefix = "authorization denied by plugin dockward"
	cmdTimeout   = 90 * time.Second
)

// hardened is the compliant `docker run` of the restricted profile, one
// token per flag so a case can drop or replace exactly one of them.
var hardened = []string{
	"--read-only",
	"--tmpfs=/tmp",
	"--cap-drop=ALL",
	"--cap-add=NET_RAW",
	"--security-opt=no-new-privileges",
	"--user=1000:1000",
	"--memory=128m",
	"--cpus=0.5",
	"--pids-limit=100",
}

// harness is the plugin and daemon under test.
type harness struct {
	engine      string
	dir         string // short temporary root: unix socket paths are limited to 108 bytes
	dockerd     string
	runc        string // "" for the engine's default runtime
	binDir      string // prepended to PATH for dockerd ("" for none)
	cli         string
	dockward    string
	dockerSock  string
	policyDir   string
	auditLog    string
	pluginLog   string
	daemonLog   string
	ownerDB     string // the plugin's ownership store
	controlSock string // its control socket (dockward own)
	versions    string // engine and client versions, for the log
	ctdMode     string // how containerd runs, for the log

	procs []*proc // started by us, stopped in reverse order
}

var (
	h        *harness
	setupErr error
	skipWhy  string
	setupMu  sync.Mutex
	setupRan bool
)

func TestMain(m *testing.M) {
	code := m.Run()
	if h != nil {
		if code != 0 {
			h.dumpLogs(os.Stdout)
		}
		if err := h.teardown(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e teardown: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// env returns the running harness, starting it on first use. It skips or
// fails the test when the harness cannot run.
func env(t *testing.T) *harness {
	t.Helper()
	setupMu.Lock()
	defer setupMu.Unlock()
	if !setupRan {
		setupRan = true
		start := time.Now()
		h, skipWhy, setupErr = setup()
		if setupErr == nil && skipWhy == "" {
			t.Logf("harness up in %s: engine %s (%s), dockerd %s %s, cli %s, dir %s",
				time.Since(start).Round(time.Millisecond), h.engine, h.versions, h.dockerd, h.ctdMode, h.cli, h.dir)
		}
	}
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	if setupErr != nil {
		t.Fatalf("e2e harness: %v", setupErr)
	}
	return h
}

func setup() (*harness, string, error) {
	if os.Geteuid() != 0 {
		return skipOrFail("e2e tests need root (they start dockerd)")
	}
	hs := &harness{}
	if skip, err := hs.selectEngine(); skip != "" || err != nil {
		return nil, skip, err
	}
	if err := checkPluginSocketFree(); err != nil {
		return nil, "", err
	}

	dir, err := os.MkdirTemp("/tmp", "dw-e2e-")
	if err != nil {
		return nil, "", err
	}
	hs.dir = dir
	hs.dockerSock = filepath.Join(dir, "docker.sock")
	hs.policyDir = filepath.Join(dir, "policies")
	hs.auditLog = filepath.Join(dir, "audit", "audit.log")
	hs.pluginLog = filepath.Join(dir, "plugin.log")
	hs.daemonLog = filepath.Join(dir, "dockerd.log")
	hs.ownerDB = filepath.Join(dir, "owners.db")
	hs.controlSock = filepath.Join(dir, "control.sock")

	// From here on every return hands hs back, so that TestMain tears
	// down whatever was started.
	if err := hs.buildPlugin(); err != nil {
		return hs, "", err
	}
	src, err := policySource()
	if err != nil {
		return hs, "", err
	}
	if err := copyTree(src, hs.policyDir); err != nil {
		return hs, "", fmt.Errorf("copy policies: %w", err)
	}
	if err := hs.startPlugin(); err != nil {
		return hs, "", err
	}
	if err := hs.startDaemon(); err != nil {
		return hs, "", err
	}
	if err := hs.importImage(); err != nil {
		return hs, "", err
	}
	return hs, "", nil
}

// selectEngine fills in the engine (DOCKWARD_E2E_ENGINE), its binaries and
// the docker CLI; a missing piece is a skip reason or an error (skipOrFail).
func (hs *harness) selectEngine() (skip string, err error) {
	hs.engine = os.Getenv("DOCKWARD_E2E_ENGINE")
	if hs.engine == "" {
		hs.engine = "debian"
	}
	switch hs.engine {
	case "debian":
		hs.dockerd = "/usr/sbin/dockerd"
	case "current":
		hs.binDir = os.Getenv("DOCKWARD_E2E_BIN")
		if hs.binDir == "" {
			hs.binDir = "/opt/dwtools/bin"
		}
		hs.dockerd = filepath.Join(hs.binDir, "dockerd")
		hs.runc = filepath.Join(hs.binDir, "runc")
	default:
		return "", fmt.Errorf("DOCKWARD_E2E_ENGINE=%q: want debian or current", hs.engine)
	}
	for _, bin := range []string{hs.dockerd, hs.runc} {
		if bin == "" {
			continue
		}
		if _, err := os.Stat(bin); err != nil {
			_, skip, err := skipOrFail(fmt.Sprintf("engine %s: %s is missing (install/test.sh builds it): %v", hs.engine, bin, err))
			return skip, err
		}
	}
	cli, err := findDockerCLI()
	if err != nil {
		_, skip, err := skipOrFail(err.Error())
		return skip, err
	}
	hs.cli = cli
	return "", nil
}

func skipOrFail(why string) (*harness, string, error) {
	if os.Getenv("DOCKWARD_E2E_ALLOW_SKIP") == "1" {
		return nil, why + " (skipped: DOCKWARD_E2E_ALLOW_SKIP=1)", nil
	}
	return nil, "", errors.New(why + " (set DOCKWARD_E2E_ALLOW_SKIP=1 to skip instead)")
}

// envSkip skips t for a reason in the environment (not the test's own
// branching) only when DOCKWARD_E2E_ALLOW_SKIP=1; otherwise the test fails,
// so a run that proved nothing never reads as a pass.
func envSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if os.Getenv("DOCKWARD_E2E_ALLOW_SKIP") == "1" {
		t.Skip(why + " (skipped: DOCKWARD_E2E_ALLOW_SKIP=1)")
	}
	t.Fatal(why + " (set DOCKWARD_E2E_ALLOW_SKIP=1 to skip instead)")
}

// findDockerCLI prefers Debian's client (API 1.41, speaks to both engines).
func findDockerCLI() (string, error) {
	if p := os.Getenv("DOCKWARD_E2E_CLI"); p != "" {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		return "/usr/bin/docker", nil
	}
	p, err := exec.LookPath("docker")
	if err != nil {
		return "", errors.New("no docker CLI: apt-get install docker.io")
	}
	return p, nil
}

// checkPluginSocketFree fails when a live process serves the fixed plugin
// socket, and removes a stale socket file that nobody serves.
func checkPluginSocketFree() error { return checkSocketFree(pluginSocket) }

// checkSocketFree is checkPluginSocketFree for any plugin socket path.
func checkSocketFree(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%s is served by another process (a dockward already running?); stop it before running the e2e tests", path)
	}
	if boundInProcNetUnix(path) {
		return fmt.Errorf("%s is bound by another live process; stop it before running the e2e tests", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale %s: %w", path, err)
	}
	return nil
}

// boundInProcNetUnix reports whether a live socket is bound to path.
func boundInProcNetUnix(path string) bool {
	b, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && f[len(f)-1] == path {
			return true
		}
	}
	return false
}

func repoRoot() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("repository root not found from the test directory: %w", err)
	}
	return root, nil
}

func policySource() (string, error) {
	if d := os.Getenv("DOCKWARD_E2E_POLICY_DIR"); d != "" {
		return d, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "policies"), nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func (hs *harness) buildPlugin() error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	hs.dockward = filepath.Join(hs.dir, "dockward")
	// Built as install.sh builds it (static, stripped): the binary the
	// benchmarks measure (its RSS, plugin/BENCHMARKS.md) is the one users run.
	cmd := exec.Command(goTool(), "build", "-trimpath", "-ldflags", "-s -w", "-o", hs.dockward, "./plugin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./plugin: %v\n%s", err, out)
	}
	return nil
}

func (hs *harness) startPlugin() error {
	if err := os.MkdirAll(filepath.Dir(pluginSocket), 0o755); err != nil {
		return err
	}
	p, err := hs.start("dockward", hs.pluginLog, nil, hs.dockward, "serve",
		"--socket", pluginSocket,
		"--policy-dir", hs.policyDir,
		"--audit-log", hs.auditLog,
		// The isolated daemon, for the lookups a decision makes (image
		// users, joined containers, named volumes).
		"--docker-host", "unix://"+hs.dockerSock,
		// Never the host's /var/lib/dockward or /run/dockward.
		"--owner-db", hs.ownerDB, "--control-socket", hs.controlSock,
		// Lookups kept an hour, not 2s: every test that changes the
		// daemon and is then judged on the change also tests that the
		// lookup cache drops what the change made stale.
		"--lookup-cache-ttl", "1h",
		"--log-level", "debug")
	if err != nil {
		return err
	}
	err = waitFor(15*time.Second, p, func() bool {
		c, err := net.DialTimeout("unix", pluginSocket, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if err != nil {
		return fmt.Errorf("dockward serve: %w\n%s", err, tail(hs.pluginLog, 30))
	}
	return nil
}

func (hs *harness) startDaemon() error {
	mode := os.Getenv("DOCKWARD_E2E_CONTAINERD")
	if mode != "own" {
		err := hs.tryDaemon("")
		if err == nil {
			return nil
		}
		if !strings.Contains(tail(hs.daemonLog, 200), "containerd") {
			return err
		}
		fmt.Fprintf(os.Stderr, "e2e: dockerd with its managed containerd failed (%v); retrying with our own containerd\n", err)
		if err := hs.resetDaemonDirs(); err != nil {
			return err
		}
	}
	addr, err := hs.startContainerd()
	if err != nil {
		return err
	}
	return hs.tryDaemon(addr)
}

// tryDaemon starts dockerd (with our containerd at addr, or its managed one
// when addr is "") and waits until the CLI reaches it.
func (hs *harness) tryDaemon(containerdAddr string) error {
	hs.ctdMode = "with its managed containerd"
	if containerdAddr != "" {
		hs.ctdMode = "with our containerd at " + containerdAddr
	}
	if _, err := hs.startDockerd("dockerd", pluginName, containerdAddr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := hs.dockerCmd(ctx, "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}").Output()
	if err != nil {
		return fmt.Errorf("docker version: %w", err)
	}
	hs.versions = strings.TrimSpace(string(out))
	return nil
}

// startDockerd starts an isolated dockerd of the harness's engine under
// hs.dir (its own socket, data root, exec root, pid file), with authz as its
// authorization plugin when not empty and our containerd when containerdAddr
// is set, plus extra flags; it waits until the CLI reaches it.
func (hs *harness) startDockerd(name, authz, containerdAddr string, extra ...string) (*proc, error) {
	cfg := filepath.Join(hs.dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o600); err != nil {
		return nil, err
	}
	args := append([]string{
		"-H", "unix://" + hs.dockerSock,
		"--config-file", cfg,
		"--data-root", filepath.Join(hs.dir, "data"),
		"--exec-root", filepath.Join(hs.dir, "exec"),
		"--pidfile", filepath.Join(hs.dir, "docker.pid"),
		"--iptables=false",
		"--bridge=none",
	}, extra...)
	if authz != "" {
		args = append(args, "--authorization-plugin="+authz)
	}
	if hs.engine == "current" {
		args = append(args, "--ip6tables=false", "--add-runtime", "r="+hs.runc, "--default-runtime", "r")
	}
	if containerdAddr != "" {
		args = append(args, "--containerd", containerdAddr)
	}
	var extraEnv []string
	if hs.binDir != "" {
		extraEnv = append(extraEnv, "PATH="+hs.binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	p, err := hs.start(name, hs.daemonLog, extraEnv, hs.dockerd, args...)
	if err != nil {
		return nil, err
	}
	err = waitFor(60*time.Second, p, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.dockerCmd(ctx, "version").Run() == nil
	})
	if err != nil {
		p.stop(20 * time.Second)
		return nil, fmt.Errorf("%s (authorization plugin %q) did not come up: %w\n%s", name, authz, err, tail(hs.daemonLog, 30))
	}
	return p, nil
}

func (hs *harness) resetDaemonDirs() error {
	unmountUnder(hs.dir)
	for _, d := range []string{"data", "exec"} {
		if err := os.RemoveAll(filepath.Join(hs.dir, d)); err != nil {
			return err
		}
	}
	return nil
}

// startContainerd runs Debian's containerd with its own state, root and
// address under the harness directory.
func (hs *harness) startContainerd() (string, error) {
	base := filepath.Join(hs.dir, "ctd")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", err
	}
	addr := filepath.Join(base, "c.sock")
	cfg := filepath.Join(base, "config.toml")
	if err := os.WriteFile(cfg, []byte("version = 2\n"), 0o600); err != nil {
		return "", err
	}
	bin := "/usr/bin/containerd"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("containerd"); err != nil {
			return "", errors.New("containerd not found: apt-get install containerd")
		}
	}
	logPath := filepath.Join(hs.dir, "containerd.log")
	p, err := hs.start("containerd", logPath, nil, bin,
		"--config", cfg, "--address", addr,
		"--root", filepath.Join(base, "root"), "--state", filepath.Join(base, "state"))
	if err != nil {
		return "", err
	}
	err = waitFor(30*time.Second, p, func() bool {
		c, err := net.DialTimeout("unix", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if err != nil {
		return "", fmt.Errorf("containerd: %w\n%s", err, tail(logPath, 30))
	}
	return addr, nil
}

// importImage builds a one-binary busybox image without a registry. The
// import itself goes through the plugin (POST /images/create?fromSrc=-).
func (hs *harness) importImage() error {
	buf, err := imageTar()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := hs.dockerCmd(ctx, "import", "-", testImage)
	cmd.Stdin = buf
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker import (allowed by the default policy?): %v\n%s", err, out)
	}
	return nil
}

// imageTar is the test image's root filesystem: busybox-static, an
// /etc/passwd with root and app (1000), /tmp.
func imageTar() (*bytes.Buffer, error) {
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil, fmt.Errorf("busybox-static is needed for the test image: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mod := time.Unix(0, 0)
	add := func(hdr *tar.Header, body []byte) {
		hdr.ModTime = mod
		hdr.Size = int64(len(body))
		_ = tw.WriteHeader(hdr)
		_, _ = tw.Write(body)
	}
	for _, d := range []string{"bin/", "etc/", "home/", "home/app/"} {
		add(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	}
	add(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, busybox)
	for _, l := range []string{"sh", "true", "id", "cat", "sleep", "ls", "echo"} {
		add(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	add(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644},
		[]byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"))
	add(&tar.Header{Name: "etc/group", Typeflag: tar.TypeReg, Mode: 0o644},
		[]byte("root:x:0:\napp:x:1000:\n"))
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// proc is a process we started; only these are ever signalled.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

func (hs *harness) start(name, logPath string, extraEnv []string, bin string, args ...string) (*proc, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), extraEnv...)
	// Own process group (a ^C to go test does not hit it first), and a
	// SIGTERM if the test binary dies without tearing down.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: lf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	hs.procs = append(hs.procs, p)
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to our process (by PID), then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitFor polls ok until it holds, p exits, or timeout passes.
func waitFor(timeout time.Duration, p *proc, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", p.name, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (hs *harness) teardown() error {
	for i := len(hs.procs) - 1; i >= 0; i-- {
		hs.procs[i].stop(20 * time.Second)
	}
	hs.procs = nil
	unmountUnder(hs.dir)
	if err := os.RemoveAll(hs.dir); err != nil {
		return fmt.Errorf("remove %s: %w", hs.dir, err)
	}
	return nil
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			points = append(points, mp)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, mp := range points {
		_ = syscall.Unmount(mp, syscall.MNT_DETACH)
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (hs *harness) dumpLogs(w io.Writer) {
	for _, l := range []struct{ name, path string }{
		{"dockward", hs.pluginLog},
		{"dockerd", hs.daemonLog},
	} {
		fmt.Fprintf(w, "----- last lines of the %s log (%s), debug lines left out -----\n%s\n", l.name, l.path, tailNoDebug(l.path, 40))
	}
}

// tailNoDebug is tail without debug lines (the plugin logs every input).
func tailNoDebug(path string, n int) string {
	var keep []string
	for _, line := range strings.Split(tail(path, 100000), "\n") {
		if !strings.Contains(line, "level=debug") {
			keep = append(keep, line)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

// tail returns the last n lines of a file, or why it cannot.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
