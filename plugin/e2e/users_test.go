//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"syscall"
	"testing"
)

// Local users for the identity tests: real accounts in the host's user
// database, made with useradd and removed when the test ends. Their names
// carry the plugin name's suffix (alice, or alice-b under
// DOCKWARD_E2E_PLUGIN=dockward-b) so that parallel checkouts never share,
// or delete, each other's users.

// usersLock serializes useradd/userdel/groupadd across test processes (they
// lock /etc/passwd themselves and fail, not wait, when it is held).
const usersLock = "/tmp/dw-users.lock"

// localName is name with this run's suffix.
func localName(name string) string {
	if s := strings.TrimPrefix(pluginName, "dockward"); s != "" {
		return name + s // "-b"
	}
	return name
}

// localGroup makes the group (this run's name for it) unless it exists, and
// removes it at cleanup when this test made it. It returns the group name.
// The docker group is never suffixed, made or removed here: it is the host's.
func localGroup(t *testing.T, name string) string {
	t.Helper()
	if name != "docker" {
		name = localName(name)
	}
	if _, err := user.LookupGroup(name); err == nil {
		return name
	}
	if name == "docker" {
		t.Fatalf("the host has no docker group (install docker.io)")
	}
	withUsersLock(t, func() { runRoot(t, "groupadd", name) })
	t.Cleanup(func() { withUsersLock(t, func() { runRoot(t, "groupdel", name) }) })
	return name
}

// localUser makes a user (this run's name for it, no home directory) in the
// given groups and removes it at cleanup. A user of that name left by an
// earlier, killed run is replaced. It returns the user.
func localUser(t *testing.T, name string, groups ...string) *user.User {
	t.Helper()
	name = localName(name)
	var gs []string
	for _, g := range groups {
		gs = append(gs, localGroup(t, g))
	}
	withUsersLock(t, func() {
		if _, err := user.Lookup(name); err == nil {
			runRoot(t, "userdel", name)
		}
		args := []string{"--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group"}
		if len(gs) > 0 {
			args = append(args, "--groups", strings.Join(gs, ","))
		}
		runRoot(t, "useradd", append(args, name)...)
	})
	t.Cleanup(func() { withUsersLock(t, func() { runRoot(t, "userdel", name) }) })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s after useradd: %v", name, err)
	}
	return u
}

func withUsersLock(t *testing.T, f func()) {
	t.Helper()
	fd, err := syscall.Open(usersLock, syscall.O_CREAT|syscall.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatalf("users lock: %v", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		t.Fatalf("users lock: %v", err)
	}
	defer syscall.Flock(fd, syscall.LOCK_UN) //nolint:errcheck // closing releases it too
	f()
}

func runRoot(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// asUser is the docker CLI run as u (runuser, as an operator would test it)
// against the unix socket sock, with a config directory u owns.
func (hs *harness) asUser(ctx context.Context, t *testing.T, u *user.User, sock string, args ...string) *exec.Cmd {
	t.Helper()
	// Not under hs.dir: the user must be able to reach it (0700 parents).
	cfg, err := os.MkdirTemp("/tmp", "dw-cli-"+u.Username+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cfg) })
	var uid, gid int
	fmt.Sscan(u.Uid, &uid) //nolint:errcheck // from the user database
	fmt.Sscan(u.Gid, &gid) //nolint:errcheck
	if err := os.Chown(cfg, uid, gid); err != nil {
		t.Fatal(err)
	}
	full := append([]string{"-u", u.Username, "--", hs.cli, "-H", "unix://" + sock}, args...)
	cmd := exec.CommandContext(ctx, "runuser", full...)
	cmd.Env = []string{"DOCKER_CONFIG=" + cfg, "HOME=" + cfg, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	return cmd
}
