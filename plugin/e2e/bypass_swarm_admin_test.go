//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// swarmLeave leaves whatever swarm d is in and deletes the
// docker_gwbridge interface a swarm made.
func swarmLeave(t *testing.T, d *harness) {
	t.Helper()
	if r := d.docker(t, "swarm", "leave", "--force"); r.code != 0 && !strings.Contains(r.stderr, "not part of a swarm") {
		t.Errorf("swarm leave: %v", r)
	}
}

func deleteGWBridge(t *testing.T) {
	t.Helper()
	if _, err := net.InterfaceByName("docker_gwbridge"); err == nil {
		if out, err := exec.Command("ip", "link", "del", "docker_gwbridge").CombinedOutput(); err != nil {
			t.Errorf("ip link del docker_gwbridge: %v %s", err, out)
		}
	}
}

// startAttacker starts a second isolated dockerd without any authorization
// plugin: the daemon a caller controls, whose swarm the guarded daemon must
// not join.
func startAttacker(t *testing.T, hs *harness) *harness {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "dw-a-")
	if err != nil {
		t.Fatal(err)
	}
	a := &harness{engine: hs.engine, dir: dir, dockerd: hs.dockerd, runc: hs.runc, binDir: hs.binDir, cli: hs.cli,
		dockerSock: filepath.Join(dir, "docker.sock"), daemonLog: filepath.Join(dir, "dockerd.log")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("attacker dockerd log:\n%s", tailNoDebug(a.daemonLog, 30))
		}
		swarmLeave(t, a)
		if err := a.teardown(); err != nil {
			t.Errorf("stop the attacker's daemon: %v", err)
		}
	})
	if _, err := a.startDockerd("dockerd-attacker", "", ""); err != nil {
		t.Fatalf("attacker's daemon: %v", err)
	}
	return a
}

// swarmState is what a refused swarm request must not change: the node's
// swarm state, whether it is a manager, the managers' autolock, and the
// nodes with their role and availability.
func (hs *harness) swarmState(t *testing.T) string {
	t.Helper()
	info := strings.TrimSpace(hs.mustDocker(t, "info", "--format",
		"{{.Swarm.LocalNodeState}} manager={{.Swarm.ControlAvailable}} cluster={{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}} autolock={{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}{{end}}"))
	if !strings.HasPrefix(info, "active") {
		return info
	}
	nodes := hs.mustDocker(t, "node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}")
	labels := hs.mustDocker(t, "node", "inspect", "self", "--format", "{{json .Spec.Labels}} {{.Spec.Role}}")
	return info + "\n" + strings.TrimSpace(nodes) + "\n" + strings.TrimSpace(labels)
}

// TestBypassSwarmAdmin (issue 11 item 1): swarm membership is root on the
// host. A manager join token (GET /swarm) lets a daemon the caller controls
// join and schedule a task that binds / onto this node, created inside
// dockerd where no plugin sees it; joining someone else's swarm, init,
// update, unlock, leave, the unlock key and node changes are the same power.
// swarm_admin_only refuses them all for non-admins; the red replay (the
// rule in dryrun) is inline because it needs the swarms set up here, and
// shows the guarded daemon joining the attacker's swarm as a manager. An
// admin (a TLS user listed in admins) manages the swarm of a TLS daemon.
// Run under `flock /tmp/dw-swarm.lock`: only one swarm test at a time.
func TestBypassSwarmAdmin(t *testing.T) {
	hs := env(t)
	if _, err := net.InterfaceByName("docker_gwbridge"); err == nil {
		t.Skip("a docker_gwbridge interface exists already (another daemon's swarm?): not touching it")
	}
	t.Cleanup(func() { deleteGWBridge(t) })
	t.Cleanup(func() {
		// Normally left already (the teardown subtests); after a failure,
		// leave under a dryrun edit of the rule, undone right after.
		if strings.HasPrefix(hs.swarmState(t), "inactive") {
			return
		}
		dataFile := filepath.Join(hs.policyDir, "data.json")
		orig, err := os.ReadFile(dataFile)
		if err != nil {
			t.Error(err)
			return
		}
		var data map[string]map[string]any
		if err := json.Unmarshal(orig, &data); err != nil {
			t.Error(err)
			return
		}
		modes, _ := data["authz_config"]["modes"].(map[string]any)
		if modes == nil {
			modes = map[string]any{}
		}
		modes["swarm_admin_only"] = "dryrun"
		data["authz_config"]["modes"] = modes
		edited, _ := json.Marshal(data)
		off := logSize(t, hs.pluginLog)
		hs.writeFileAtomic(t, dataFile, edited)
		waitForLog(t, hs.pluginLog, off, "policy reloaded", reloadTimeout)
		swarmLeave(t, hs)
		off = logSize(t, hs.pluginLog)
		hs.writeFileAtomic(t, dataFile, orig)
		waitForLog(t, hs.pluginLog, off, "policy reloaded", reloadTimeout)
	})
	a := startAttacker(t, hs)
	port := freePort(t)
	if o := cliOutcome(a.docker(t, "swarm", "init", "--advertise-addr", "127.0.0.2", "--listen-addr", fmt.Sprintf("127.0.0.2:%d", port))); !o.succeeded() {
		t.Skipf("swarm init fails on the attacker's isolated daemon: %v", o)
	}
	token := strings.TrimSpace(a.mustDocker(t, "swarm", "join-token", "-q", "manager"))
	remote := fmt.Sprintf("127.0.0.2:%d", port)

	t.Run("enforced", func(t *testing.T) { bypassSwarmAdmin(t, hs, false, token, remote) })
	t.Run("red: swarm_admin_only in dryrun", func(t *testing.T) {
		hs.setModes(t, "dryrun", "swarm_admin_only")
		bypassSwarmAdmin(t, hs, true, token, remote)
	})
	t.Run("an admin manages the swarm of a TLS daemon", func(t *testing.T) { swarmAdminTLS(t, hs) })
}

func bypassSwarmAdmin(t *testing.T, hs *harness, red bool, token, remote string) {
	// Outside any swarm: join the attacker's swarm, or make one.
	joins := []struct {
		name string
		args []string
	}{
		{"swarm join to the attacker's swarm with its manager token", []string{"swarm", "join", "--token", token, "--advertise-addr", "127.0.0.1", "--listen-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), remote}},
		{"swarm init", []string{"swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t))}},
	}
	for _, c := range joins {
		t.Run(c.name, func(t *testing.T) {
			before := hs.swarmState(t)
			if !strings.HasPrefix(before, "inactive") {
				t.Fatalf("the guarded daemon is in a swarm already: %s", before)
			}
			o := hs.dockerO(t, c.args...)
			verdict(t, o, red, "swarm_admin_only")
			now := hs.swarmState(t)
			if red {
				t.Logf("REPORT: with swarm_admin_only in dryrun, %s: %s", c.args[1], strings.Split(now, "\n")[0])
				if c.args[1] == "join" && !strings.Contains(now, "manager=true") {
					t.Errorf("the red replay did not join the attacker's swarm as a manager: %v\n%s", o, now)
				}
				t.Run("leave", func(t *testing.T) { swarmLeave(t, hs) })
				return
			}
			if now != before {
				t.Errorf("BYPASS: the swarm state changed: %s -> %s", before, now)
			}
		})
	}

	// A manager of its own swarm (made under a dryrun edit), whose tokens,
	// key, configuration and nodes a non-admin must not touch.
	t.Run("setup: swarm init under a temporary policy edit", func(t *testing.T) {
		hs.setModes(t, "dryrun", "swarm_admin_only")
		if o := hs.dockerO(t, "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t))); !o.succeeded() {
			t.Fatalf("swarm init (dryrun): %v", o)
		}
	})
	defer t.Run("teardown: leave under a temporary policy edit", func(t *testing.T) {
		hs.setModes(t, "dryrun", "swarm_admin_only")
		swarmLeave(t, hs)
	})
	self := strings.TrimSpace(hs.mustDocker(t, "node", "inspect", "self", "--format", "{{.ID}}"))
	cases := []struct {
		name string
		args []string
	}{
		{"swarm join-token manager", []string{"swarm", "join-token", "-q", "manager"}},
		{"swarm join-token worker", []string{"swarm", "join-token", "worker"}},
		{"swarm join-token --rotate", []string{"swarm", "join-token", "--rotate", "-q", "manager"}},
		{"swarm update --autolock", []string{"swarm", "update", "--autolock=true"}},
		{"swarm unlock-key", []string{"swarm", "unlock-key", "-q"}},
		{"swarm ca --rotate", []string{"swarm", "ca", "--rotate", "--detach"}},
		{"node update --availability drain", []string{"node", "update", "--availability", "drain", self}},
		{"node update --label-add", []string{"node", "update", "--label-add", "dw=1", self}},
		{"node demote", []string{"node", "demote", self}},
		{"node rm --force", []string{"node", "rm", "--force", self}},
		{"swarm leave --force", []string{"swarm", "leave", "--force"}},
		{"swarm join to the attacker's swarm while in one", []string{"swarm", "join", "--token", token, remote}},
	}
	// node promote of a manager never reaches the daemon (the CLI says
	// "already a manager"): the update it would send, raw.
	t.Run("raw node update: role manager", func(t *testing.T) {
		before := hs.swarmState(t)
		ver := strings.TrimSpace(hs.mustDocker(t, "node", "inspect", "self", "--format", "{{.Version.Index}}"))
		o := hs.raw(t, rawReq{method: "POST", uri: "/v" + hs.apiVersion(t) + "/nodes/" + self + "/update?version=" + ver,
			ctype: "application/json", body: []byte(`{"Role":"manager","Availability":"active"}`)})
		verdict(t, o, red, "swarm_admin_only")
		if now := hs.swarmState(t); !red && now != before {
			t.Errorf("BYPASS: the swarm changed:\n%s\n->\n%s", before, now)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hs.swarmState(t)
			o := hs.dockerO(t, c.args...)
			if red {
				verdict(t, o, true, "swarm_admin_only")
				if c.args[1] == "join-token" && o.succeeded() && strings.Contains(o.msg, "SWMTKN-") {
					t.Logf("REPORT: with swarm_admin_only in dryrun, %s discloses a join token", strings.Join(c.args, " "))
				}
				if c.args[0] == "swarm" && c.args[1] == "update" {
					// Autolocked now: the key exists, and GET /info (open
					// to everyone) must still not carry it.
					t.Logf("REPORT: with swarm_admin_only in dryrun, swarm update --autolock: %s", strings.Split(hs.swarmState(t), "\n")[0])
					if info := hs.raw(t, rawReq{method: "GET", uri: "/v" + hs.apiVersion(t) + "/info"}); strings.Contains(info.msg, "SWMKEY-") {
						t.Errorf("GET /info discloses the unlock key of an autolocked swarm")
					}
				}
				// Undo what the red replay changed, so the next case
				// starts from the same swarm.
				hs.docker(t, "swarm", "update", "--autolock=false")
				if !strings.HasPrefix(hs.swarmState(t), "active") {
					hs.mustDocker(t, "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
					self = strings.TrimSpace(hs.mustDocker(t, "node", "inspect", "self", "--format", "{{.ID}}"))
				} else {
					hs.docker(t, "node", "update", "--availability", "active", "--label-rm", "dw", self)
				}
				return
			}
			verdict(t, o, false, "swarm_admin_only")
			if strings.Contains(o.msg, "SWMTKN-") {
				t.Errorf("BYPASS: a join token or unlock key reached a non-admin: %v", o)
			}
			if now := hs.swarmState(t); now != before {
				t.Errorf("BYPASS: the swarm changed:\n%s\n->\n%s", before, now)
			}
		})
	}
	t.Run("docker info, node ls and service ls stay open", func(t *testing.T) {
		for _, args := range [][]string{{"info"}, {"node", "ls"}, {"service", "ls"}, {"node", "inspect", "self"}} {
			o := hs.dockerO(t, args...)
			if o.byPlugin() {
				t.Errorf("a read was refused: %v", o)
			}
			if strings.Contains(o.msg, "SWMTKN-") {
				t.Errorf("%v discloses a swarm token", args)
			}
		}
		// The API documents themselves: no join token (SWMTKN-) or unlock
		// key (SWMKEY-) in what stays readable.
		for _, p := range []string{"/info", "/nodes", "/services", "/tasks", "/nodes/" + self} {
			o := hs.raw(t, rawReq{method: "GET", uri: "/v" + hs.apiVersion(t) + p})
			if !o.succeeded() || o.byPlugin() {
				t.Errorf("GET %s: %v", p, o)
			}
			if strings.Contains(o.msg, "SWMTKN-") || strings.Contains(o.msg, "SWMKEY-") {
				t.Errorf("GET %s discloses a swarm token or key: %v", p, o)
			}
		}
	})
}

// swarmAdminTLS: on a daemon that authenticates clients with TLS, the
// ops-admin certificate listed in admins inits a swarm, reads its join
// token and leaves it; alice, who is not an admin, is refused.
func swarmAdminTLS(t *testing.T, hs *harness) {
	d, err := startTLSDaemon(t, hs)
	t.Cleanup(func() {
		if d != nil && d.harness != nil {
			d.as(t, "ops-admin", "swarm", "leave", "--force")
		}
		if err := d.stop(); err != nil {
			t.Errorf("stop the TLS daemon: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("second daemon with TLS: %v", err)
	}
	hs.editData(t, func(cfg map[string]any) { cfg["admins"] = []any{"ops-admin"} })
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	o := d.as(t, "alice", "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", listen)
	expectRefused(t, o, "swarm_admin_only")
	if o := d.as(t, "ops-admin", "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", listen); !o.succeeded() {
		t.Fatalf("the admin's swarm init failed: %v", o)
	}
	if o := d.as(t, "ops-admin", "swarm", "join-token", "-q", "worker"); !o.succeeded() || !strings.Contains(o.msg, "SWMTKN-") {
		t.Errorf("the admin cannot read the join token: %v", o)
	}
	expectRefused(t, d.as(t, "alice", "swarm", "join-token", "-q", "worker"), "swarm_admin_only")
	expectRefused(t, d.as(t, "alice", "swarm", "leave", "--force"), "swarm_admin_only")
	if o := d.as(t, "ops-admin", "swarm", "leave", "--force"); !o.succeeded() {
		t.Errorf("the admin cannot leave the swarm: %v", o)
	}
}
