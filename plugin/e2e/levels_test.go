//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// levelAudit is what an audit record says of who asked and at which level.
type levelAudit struct {
	Decision string   `json:"decision"`
	User     string   `json:"user"`
	Groups   []string `json:"groups"`
	Level    string   `json:"level"`
	Endpoint string   `json:"endpoint"`
	Exempted []struct {
		ID        string `json:"id"`
		Exemption string `json:"exemption"`
	} `json:"exempted"`
	Violations []struct {
		ID string `json:"id"`
	} `json:"violations"`
}

func (hs *harness) levelRecords(t *testing.T, offset int64) []levelAudit {
	t.Helper()
	return auditAfter[levelAudit](t, hs.auditLog, offset)
}

// TestLevelsByGroup (issue 12 points 2 and 3): real local users, each with
// a client certificate whose CN is their passwd name (as the identity
// broker presents them), on the TLS daemon. The plugin reads their groups
// from the host's /etc/group: carol in ci is judged at baseline
// (levels.groups), alice in docker at the default, restricted. A plain
// docker run is allowed for carol and denied for alice, each message and
// audit record naming the level and the groups; baseline still denies
// --privileged; an exemption for the ci group applies, and stops applying
// when it expires; admins by group open the admin-only doors; dockward
// check says the level.
func TestLevelsByGroup(t *testing.T) {
	hs := env(t)
	carol := localUser(t, "carol", "ci")
	alice := localUser(t, "alice", "docker")
	ci := localName("ci")
	start := time.Now()
	d, err := startTLSDaemon(t, hs, carol.Username, alice.Username)
	t.Cleanup(func() {
		if t.Failed() && d != nil {
			t.Logf("TLS dockerd log:\n%s", tailNoDebug(d.daemonLog, 30))
		}
		if err := d.stop(); err != nil {
			t.Errorf("stop the TLS daemon: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("second daemon with TLS: %v", err)
	}
	t.Logf("TLS dockerd up at %s in %s; users %s (groups %s) and %s (docker)", d.addr, time.Since(start).Round(time.Millisecond),
		carol.Username, ci, alice.Username)

	hs.editData(t, func(cfg map[string]any) {
		cfg["levels"] = map[string]any{"default": "restricted", "groups": map[string]any{ci: "baseline"}}
	})
	// carol's groups as the host has them: her own (useradd --user-group)
	// and ci, sorted.
	carolGroups := []string{carol.Username, ci}
	slices.Sort(carolGroups)
	aliceGroups := []string{alice.Username, "docker"}
	slices.Sort(aliceGroups)
	judged := func(level, user string, groups []string) string {
		return "judged at level " + level + " (user " + user + ", groups " + strings.Join(groups, " ") + ")"
	}
	// A plain docker create (not run: the plugin's lookups, a start's
	// among them, go to the package's daemon, not this one).
	plain := []string{"create", "--label", "dockward-e2e=levels", testImage, "true"}
	privileged := []string{"create", "--label", "dockward-e2e=levels", "--privileged", testImage, "true"}
	recordOf := func(t *testing.T, off int64, user string) levelAudit {
		t.Helper()
		recs := hs.levelRecords(t, off)
		for i := len(recs) - 1; i >= 0; i-- {
			if recs[i].User == user && recs[i].Endpoint == "container.create" {
				return recs[i]
			}
		}
		t.Fatalf("no audit record of a container create by %s; records: %+v", user, recs)
		return levelAudit{}
	}
	noNewContainers := func(t *testing.T, before []string) {
		t.Helper()
		if now := strings.Fields(d.mustDocker(t, "ps", "-aq")); len(now) != len(before) {
			t.Errorf("BYPASS: containers %d -> %d", len(before), len(now))
		}
	}

	t.Run("carol in ci: baseline allows a plain create", func(t *testing.T) {
		o := d.as(t, carol.Username, plain...)
		if !o.succeeded() {
			t.Fatalf("refused at baseline: %v", o)
		}
		d.docker(t, "rm", "-f", strings.TrimSpace(strings.Split(strings.TrimSpace(o.msg), "\n")[0]))
	})
	t.Run("alice in docker: restricted denies the same create, naming level and groups", func(t *testing.T) {
		before := strings.Fields(d.mustDocker(t, "ps", "-aq"))
		off := logSize(t, hs.auditLog)
		o := d.as(t, alice.Username, plain...)
		expectRefused(t, o, "read_only_rootfs")
		if want := judged("restricted", alice.Username, aliceGroups); !strings.Contains(o.msg, want) {
			t.Errorf("the message lacks %q:\n%v", want, o)
		}
		noNewContainers(t, before)
		r := recordOf(t, off, alice.Username)
		if r.Decision != "deny" || r.Level != "restricted" || !slices.Equal(r.Groups, aliceGroups) {
			t.Errorf("audit record %+v, want deny at restricted with groups %v", r, aliceGroups)
		}
	})
	t.Run("carol: baseline still denies --privileged", func(t *testing.T) {
		before := strings.Fields(d.mustDocker(t, "ps", "-aq"))
		off := logSize(t, hs.auditLog)
		o := d.as(t, carol.Username, privileged...)
		expectRefused(t, o, "no_privileged")
		if got := o.rules(); !slices.Equal(got, []string{"no_privileged"}) {
			t.Errorf("rules %v, want only no_privileged (the restricted rules are not carol's level)", got)
		}
		if want := judged("baseline", carol.Username, carolGroups); !strings.Contains(o.msg, want) {
			t.Errorf("the message lacks %q:\n%v", want, o)
		}
		noNewContainers(t, before)
		r := recordOf(t, off, carol.Username)
		if r.Level != "baseline" || !slices.Equal(r.Groups, carolGroups) {
			t.Errorf("audit record %+v, want level baseline, groups %v", r, carolGroups)
		}
	})
	t.Run("dockward check names the level", func(t *testing.T) {
		host := "unix://" + hs.dockerSock
		for _, c := range []struct {
			user, want string
			groups     []string
			code       int
		}{
			{carol.Username, "baseline", carolGroups, 0},
			{alice.Username, "restricted", aliceGroups, 1},
		} {
			out, code := hs.dockwardCmd(t, "check", "--policy-dir", hs.policyDir, "--docker-host", host, "--user", c.user,
				"--", hs.cli, "run", "--rm", testImage, "true")
			t.Logf("dockward check --user %s -- docker run --rm %s true (exit %d):\n%s", c.user, testImage, code, out)
			if code != c.code || !strings.Contains(out, judged(c.want, c.user, c.groups)) {
				t.Errorf("check --user %s: exit %d, want %d and %q:\n%s", c.user, code, c.code, judged(c.want, c.user, c.groups), out)
			}
		}
	})
	t.Run("admins by group", func(t *testing.T) {
		hs.editData(t, func(cfg map[string]any) { cfg["admins"] = map[string]any{"groups": []any{ci}} })
		if o := d.as(t, carol.Username, "plugin", "rm", "x"); o.byPlugin() {
			t.Errorf("a member of the admins group was refused by dockward: %v", o)
		}
		expectRefused(t, d.as(t, alice.Username, "plugin", "rm", "x"), "plugin_admin_only")
	})
	t.Run("an exemption for the ci group applies, then expires", func(t *testing.T) {
		expires := time.Now().Add(4 * time.Second).UTC()
		hs.editData(t, func(cfg map[string]any) {
			cfg["exemptions"] = []any{map[string]any{"groups": []any{ci}, "rules": []any{"no_privileged"},
				"reason": "e2e group exemption", "expires": expires.Format(time.RFC3339Nano)}}
		})
		if time.Until(expires) < time.Second {
			t.Fatalf("the policy reload took too long to test the exemption before it expires (%s left)", time.Until(expires))
		}
		off := logSize(t, hs.auditLog)
		o := d.as(t, carol.Username, privileged...)
		if !o.succeeded() {
			t.Fatalf("exempted by group, yet refused: %v", o)
		}
		d.docker(t, "rm", "-f", strings.TrimSpace(strings.Split(strings.TrimSpace(o.msg), "\n")[0]))
		r := recordOf(t, off, carol.Username)
		if r.Decision != "allow" || r.Level != "baseline" || len(r.Exempted) != 1 || r.Exempted[0].ID != "no_privileged" ||
			r.Exempted[0].Exemption != "e2e group exemption" || !slices.Equal(r.Groups, carolGroups) {
			t.Errorf("audit record %+v, want allow at baseline with no_privileged exempted for the group", r)
		}
		// Not a member of ci: the exemption is not alice's.
		expectRefused(t, d.as(t, alice.Username, privileged...), "no_privileged")
		time.Sleep(time.Until(expires) + 500*time.Millisecond)
		before := strings.Fields(d.mustDocker(t, "ps", "-aq"))
		expectRefused(t, d.as(t, carol.Username, privileged...), "no_privileged")
		noNewContainers(t, before)
	})
}
