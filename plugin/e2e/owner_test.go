//go:build e2e

package e2e

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ownerPlugin is a dockward of the ownership (and the identity) test's own,
// in front of the TLS daemon, that looks objects up on that daemon (the package's plugin
// asks the package's daemon, which does not have them) and keeps its
// ownership store and control socket in the daemon's directory.
type ownerPlugin struct {
	d                      *tlsDaemon
	name, socket, log      string
	policyDir, db, control string
	extra                  []string // more serve flags
	proc                   *proc
}

func (op *ownerPlugin) args() []string {
	return append([]string{"serve", "--socket", op.socket, "--policy-dir", op.policyDir,
		"--audit-log", filepath.Join(op.d.dir, "audit", "audit.log"),
		"--docker-host", "unix://" + op.d.dockerSock,
		"--owner-db", op.db, "--control-socket", op.control, "--log-level", "debug",
		// Lookups kept an hour: a name that changes hands must be seen
		// through the cache's invalidation (a rename's AuthZRes, the
		// daemon's events), never through its expiry.
		"--lookup-cache-ttl", "1h"}, op.extra...)
}

// start runs the plugin and waits for its socket.
func (op *ownerPlugin) start() error {
	p, err := op.d.start(op.name, op.log, nil, op.d.dockward, op.args()...)
	if err != nil {
		return err
	}
	op.proc = p
	return waitFor(15*time.Second, p, func() bool {
		c, err := net.DialTimeout("unix", op.socket, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// own runs `dockward own` as root against the plugin's control socket.
func (op *ownerPlugin) own(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(op.d.dockward, append(append([]string{"own"}, args...), "--control-socket", op.control)...).CombinedOutput()
	return string(out), err
}

// TestOwnership (issue 12 point 4): on a daemon whose clients are TLS users,
// dockward records who created each container, volume and network, and
// owner_only lets only the owner or an admin act on it; an object made
// without a user (before identity) is admins' only until `dockward own`
// gives it away; ownership survives a restart of the plugin.
func TestOwnership(t *testing.T) {
	hs := env(t)
	const alice, bob, admin = "alice", "bob", "ops-admin" // the TLS daemon's client CNs
	op := &ownerPlugin{name: pluginName + "-own"}
	op.socket = "/run/docker/plugins/" + op.name + ".sock"
	if err := checkSocketFree(op.socket); err != nil {
		t.Fatal(err)
	}
	d, err := startTLSDaemonWith(t, hs, tlsOptions{plugin: op.name, beforeDockerd: func(d *tlsDaemon) error {
		op.d = d
		d.dockward = hs.dockward
		op.log = filepath.Join(d.dir, "plugin.log")
		op.policyDir = filepath.Join(d.dir, "policies")
		op.db, op.control = filepath.Join(d.dir, "owners.db"), filepath.Join(d.dir, "control.sock")
		src, err := policySource()
		if err != nil {
			return err
		}
		if err := copyTree(src, op.policyDir); err != nil {
			return err
		}
		if err := setAdmins(op.policyDir, admin); err != nil {
			return err
		}
		return op.start()
	}})
	t.Cleanup(func() {
		if t.Failed() && d != nil {
			t.Logf("TLS dockerd log:\n%s", tailNoDebug(d.daemonLog, 30))
			t.Logf("owner plugin log:\n%s", tailNoDebug(op.log, 30))
		}
		if err := d.stop(); err != nil {
			t.Errorf("stop the TLS daemon: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("TLS daemon with its own plugin: %v", err)
	}

	// denied: refused by owner_only, saying whose it is (another user's,
	// nobody's) without naming the owner.
	denied := func(t *testing.T, o outcome, whose, owner string) {
		t.Helper()
		expectRefused(t, o, "owner_only")
		if !strings.Contains(o.msg, whose) {
			t.Errorf("the refusal does not say %q:\n%v", whose, o)
		}
		if owner != "" && strings.Contains(o.msg, owner) {
			t.Errorf("the refusal names the owner %s:\n%v", owner, o)
		}
	}
	allowed := func(t *testing.T, o outcome) {
		t.Helper()
		if !o.succeeded() {
			t.Errorf("refused: %v", o)
		}
	}
	run := func(user, name string) string {
		// --network none: the daemons run with --bridge=none, where the
		// current engine cannot rename a container on the default bridge.
		o := d.as(t, user, append(append([]string{"run", "-d", "--name", name, "--network", "none", "--label", "dockward-e2e=owner"}, hardened...), testImage, "sleep", "300")...)
		if !o.succeeded() {
			t.Fatalf("%s's hardened run refused: %v", user, o)
		}
		return strings.TrimSpace(o.msg)
	}

	web := "dw-own-web"
	id := run(alice, web)
	t.Run("the create recorded alice", func(t *testing.T) {
		out, err := op.own(t, "container", web)
		if err != nil || !strings.Contains(out, "belongs to "+alice) || !strings.Contains(out, id) {
			t.Errorf("dockward own container %s: %v: %s", web, err, out)
		}
		t.Logf("dockward own container %s: %s", web, strings.TrimSpace(out))
	})
	t.Run("bob may not act on alice's container", func(t *testing.T) {
		for _, args := range [][]string{
			{"exec", web, "id"},
			{"stop", "-t", "1", web},
			{"kill", web},
			{"logs", web},
			{"rename", web, "dw-own-stolen"},
			{"rm", "-f", web},
			{"pause", web},
			{"cp", web + ":/etc/passwd", "-"},
		} {
			o := d.as(t, bob, args...)
			denied(t, o, "belongs to another user", alice)
			if args[0] == "exec" {
				t.Logf("%v", o) // README "Ownership" shows it
			}
		}
		if out := d.mustDocker(t, "inspect", "--format", "{{.State.Running}} {{.Name}}", id); strings.TrimSpace(out) != "true /"+web {
			t.Errorf("BYPASS: alice's container is now %q", out)
		}
	})
	t.Run("docker inspect of another's container is a read: allowed", func(t *testing.T) {
		allowed(t, d.as(t, bob, "inspect", web))
	})
	t.Run("alice and an admin may", func(t *testing.T) {
		allowed(t, d.as(t, alice, "exec", web, "id"))
		allowed(t, d.as(t, alice, "logs", web))
		allowed(t, d.as(t, alice, "rename", web, web+"2"))
		allowed(t, d.as(t, alice, "rename", web+"2", web))
		allowed(t, d.as(t, admin, "exec", web, "id"))
		allowed(t, d.as(t, admin, "pause", web))
		allowed(t, d.as(t, alice, "unpause", web))
	})

	t.Run("a name that changed hands is judged as its new owner's object (lookup cache)", func(t *testing.T) {
		mine := "dw-own-bob"
		run(bob, mine)
		// bob's stop resolves the name to his container and the plugin
		// keeps that answer; then the name changes hands.
		allowed(t, d.as(t, bob, "pause", mine))
		allowed(t, d.as(t, bob, "unpause", mine))
		allowed(t, d.as(t, bob, "rename", mine, mine+"-old"))
		allowed(t, d.as(t, alice, "rename", web, mine))
		o := d.as(t, bob, "pause", mine)
		denied(t, o, "belongs to another user", alice)
		if out := d.mustDocker(t, "inspect", "--format", "{{.State.Paused}}", id); strings.TrimSpace(out) != "false" {
			t.Errorf("BYPASS: bob paused alice's container through a name he used to have: paused=%q", out)
		}
		allowed(t, d.as(t, alice, "rename", mine, web))
		allowed(t, d.as(t, bob, "rm", "-f", mine+"-old"))
	})

	t.Run("bob may not reach alice's container through a name that is its id prefix", func(t *testing.T) {
		// The daemon resolves a full id, then a name, then an id prefix:
		// once bob renames his container (between dockward's check and
		// the handler), the name stops alice's.
		prefix := id[:12]
		mine := run(bob, prefix)
		denied(t, d.as(t, bob, "stop", "-t", "1", prefix), "name yours by its full id", alice)
		allowed(t, d.as(t, bob, "stop", "-t", "1", mine))
		allowed(t, d.as(t, bob, "rm", "-f", mine))
		if out := d.mustDocker(t, "inspect", "--format", "{{.State.Running}}", id); strings.TrimSpace(out) != "true" {
			t.Errorf("BYPASS: alice's container is now running=%q", out)
		}
	})
	t.Run("bob may not build in alice's container's network namespace", func(t *testing.T) {
		// The classic builder runs RUN steps with NetworkMode = the
		// networkmode query, in containers made inside the daemon.
		ctxDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM "+testImage+"\nRUN true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		denied(t, d.as(t, bob, "build", "--network", "container:"+id, "-t", "dw-own-build", ctxDir), "may not share the namespaces or volumes of container", alice)
		// Hers: owner_only lets it through (the builder may still refuse
		// the mode: BuildKit has no container: network).
		if o := d.as(t, alice, "build", "--network", "container:"+id, "-t", "dw-own-build", ctxDir); strings.Contains(o.msg, "owner_only") {
			t.Errorf("alice's build in her own container's namespace refused by owner_only: %v", o)
		} else {
			t.Logf("alice's build in her container's network namespace (exit %d): %s", o.code, lastLine(o.msg))
		}
		d.docker(t, "rmi", "-f", "dw-own-build")
	})

	t.Run("alice's volume and network: bob may not remove them", func(t *testing.T) {
		allowed(t, d.as(t, alice, "volume", "create", "dw-own-vol"))
		allowed(t, d.as(t, alice, "network", "create", "dw-own-net"))
		denied(t, d.as(t, bob, "volume", "rm", "dw-own-vol"), "belongs to another user", alice)
		denied(t, d.as(t, bob, "network", "rm", "dw-own-net"), "belongs to another user", alice)
		// Nor use them: mount her volume, join her network.
		before := len(strings.Fields(d.mustDocker(t, "ps", "-aq")))
		denied(t, d.as(t, bob, append(append([]string{"create", "-v", "dw-own-vol:/data"}, hardened...), testImage, "true")...), "may not mount volume dw-own-vol", alice)
		denied(t, d.as(t, bob, append(append([]string{"create", "--network", "dw-own-net"}, hardened...), testImage, "true")...), "may not join network dw-own-net", alice)
		if now := len(strings.Fields(d.mustDocker(t, "ps", "-aq"))); now != before {
			t.Errorf("BYPASS: containers %d -> %d", before, now)
		}
		// A volume create is idempotent: bob "creating" alice's volume
		// does not make it his.
		allowed(t, d.as(t, bob, "volume", "create", "dw-own-vol"))
		denied(t, d.as(t, bob, "volume", "rm", "dw-own-vol"), "belongs to another user", alice)
		// Prune removes everyone's objects: admins only.
		denied(t, d.as(t, bob, "volume", "prune", "-f"), "only admins", "")
		allowed(t, d.as(t, alice, "volume", "rm", "dw-own-vol"))
		allowed(t, d.as(t, alice, "network", "rm", "dw-own-net"))
	})

	// Made on the daemon's unix socket: no user, so no owner, as every
	// container made before identity was on (or before dockward).
	old := "dw-own-old"
	r := d.docker(t, append(append([]string{"create", "--name", old, "--label", "dockward-e2e=owner"}, hardened...), testImage, "sleep", "300")...)
	if r.code != 0 {
		t.Fatalf("anonymous create: %v", r)
	}
	t.Run("an object nobody owns is admins' only", func(t *testing.T) {
		o := d.as(t, bob, "start", old)
		denied(t, o, "belongs to nobody", "")
		t.Logf("%v", o)
		denied(t, d.as(t, alice, "rm", old), "belongs to nobody", "")
		allowed(t, d.as(t, admin, "start", old))
		allowed(t, d.as(t, admin, "stop", "-t", "1", old))
	})
	t.Run("dockward own gives it to bob", func(t *testing.T) {
		out, err := op.own(t, "container", old, "--user", bob)
		if err != nil || !strings.Contains(out, "now belongs to "+bob+" (was nobody") {
			t.Fatalf("dockward own: %v: %s", err, out)
		}
		t.Logf("dockward own container %s --user %s: %s", old, bob, strings.TrimSpace(out))
		allowed(t, d.as(t, bob, "start", old))
		denied(t, d.as(t, alice, "stop", old), "belongs to another user", bob)
	})
	t.Run("own refuses what the daemon lacks; its socket is root's alone (0600)", func(t *testing.T) {
		if out, err := op.own(t, "container", "dw-own-none", "--user", bob); err == nil || !strings.Contains(out, "has no container") {
			t.Errorf("own of a missing container: %v: %s", err, out)
		}
		if info, err := os.Stat(op.control); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("control socket mode: %v %v", info, err)
		}
	})

	t.Run("ownership survives a restart of the plugin", func(t *testing.T) {
		op.proc.stop(20 * time.Second)
		if err := op.start(); err != nil {
			t.Fatalf("restart: %v\n%s", err, tail(op.log, 20))
		}
		var o outcome
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			// dockerd reconnects to the restarted plugin by itself.
			if o = d.as(t, bob, "stop", "-t", "1", web); o.byPlugin() && !strings.Contains(o.msg, "connection refused") {
				break
			}
		}
		denied(t, o, "belongs to another user", alice)
		allowed(t, d.as(t, bob, "stop", "-t", "1", old))
		allowed(t, d.as(t, bob, "rm", "-f", old))
	})
	// Red: with owner_only in dryrun the same call reaches the daemon, so
	// the refusals above are the rule's, and the test fails without it.
	t.Run("red: owner_only in dryrun lets bob kill alice's container", func(t *testing.T) {
		if err := editPolicyData(op.policyDir, func(cfg map[string]any) {
			modes, _ := cfg["modes"].(map[string]any)
			if modes == nil {
				modes = map[string]any{}
			}
			modes["owner_only"] = "dryrun"
			cfg["modes"] = modes
		}); err != nil {
			t.Fatal(err)
		}
		var o outcome
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			if o = d.as(t, bob, "kill", web); o.succeeded() {
				break
			}
		}
		if !o.succeeded() {
			t.Fatalf("with owner_only in dryrun bob's kill is still refused: %v", o)
		}
		if out := d.mustDocker(t, "inspect", "--format", "{{.State.Running}}", web); strings.TrimSpace(out) != "false" {
			t.Errorf("the kill reached the daemon but the container runs: %s", out)
		}
	})
	t.Run("the audit log names the user refused", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(d.dir, "audit", "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, line := range strings.Split(string(b), "\n") {
			var rec struct {
				User       string `json:"user"`
				Violations []struct {
					ID string `json:"id"`
				} `json:"violations"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil || rec.User != bob {
				continue
			}
			for _, v := range rec.Violations {
				found = found || v.ID == "owner_only"
			}
		}
		if !found {
			t.Errorf("no audit record of an owner_only refusal of %s", bob)
		}
	})
}

// setAdmins sets data admins in a policy directory's data.json.
func setAdmins(dir string, admins ...string) error {
	list := make([]any, len(admins))
	for i, a := range admins {
		list[i] = a
	}
	return editPolicyData(dir, func(cfg map[string]any) { cfg["admins"] = list })
}

// editPolicyData rewrites data.authz_config of a policy directory (the
// plugin serving it reloads on the change).
func editPolicyData(dir string, edit func(map[string]any)) error {
	path := filepath.Join(dir, "data.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var data map[string]map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return err
	}
	edit(data["authz_config"])
	if b, err = json.MarshalIndent(data, "", "  "); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
