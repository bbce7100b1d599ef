//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const reloadTimeout = 10 * time.Second

// TestPolicyReload edits the running plugin's policy directory: a broken
// edit keeps the last good policy enforcing; a good edit takes effect.
func TestPolicyReload(t *testing.T) {
	hs := env(t)
	ruleFile := filepath.Join(hs.policyDir, "authz", "rules", "container", "read_only_rootfs", "read_only_rootfs.rego")
	dataFile := filepath.Join(hs.policyDir, "data.json")
	origRule, err := os.ReadFile(ruleFile)
	if err != nil {
		t.Fatalf("rule file of read_only_rootfs: %v", err)
	}
	origData, err := os.ReadFile(dataFile)
	if err != nil {
		t.Fatalf("data.json: %v", err)
	}
	t.Cleanup(func() {
		// Put the shipped policy back and wait until it is in force, so the
		// tests after this one see it.
		// A reload is logged only when the policy in force changes: the
		// data edit below changed it, a broken rule file did not.
		curData, _ := os.ReadFile(dataFile)
		curRule, _ := os.ReadFile(ruleFile)
		off := logSize(t, hs.pluginLog)
		if !bytes.Equal(curRule, origRule) {
			hs.writeFileAtomic(t, ruleFile, origRule)
		}
		if !bytes.Equal(curData, origData) {
			hs.writeFileAtomic(t, dataFile, origData)
			waitForLog(t, hs.pluginLog, off, "policy reloaded", reloadTimeout)
		} else {
			time.Sleep(time.Second) // let the watcher settle on the restored rule
		}
		expectDenied(t, hs.docker(t, runArgs(without(hardened, "--read-only"), "true")...))
	})
	noReadOnly := without(hardened, "--read-only")

	t.Run("broken edit keeps the last good policy", func(t *testing.T) {
		off := logSize(t, hs.pluginLog)
		hs.writeFileAtomic(t, ruleFile, append(append([]byte(nil), origRule...), []byte("\ndeny contains v if {{{ this is not rego\n")...))
		waitForLog(t, hs.pluginLog, off, "keeping", reloadTimeout)

		d := expectDenied(t, hs.docker(t, runArgs(noReadOnly, "true")...))
		if len(d.rules) != 1 || d.rules[0] != "read_only_rootfs" {
			t.Errorf("with the broken edit, denied for %v, want [read_only_rootfs]", d.rules)
		}
		hs.runAllowed(t, hardened)
	})

	// data.json is typed at load (issue 11, item 16): a parameter of the
	// wrong type, a typo in a name and a mode for a request_* guard are each
	// a rejected edit, never a policy where the limit silently stops firing.
	t.Run("mistyped data keeps the last good policy", func(t *testing.T) {
		hs.writeFileAtomic(t, ruleFile, origRule)
		time.Sleep(time.Second) // the same policy as in force: nothing to log
		for _, tc := range []struct{ name, from, to, want string }{
			{"max_memory as a docker size", `"max_memory": 4294967296`, `"max_memory": "4g"`, `params.max_memory is \"4g\"`},
			{"a misspelt parameter", `"max_memory": 4294967296`, `"max_memroy": 1024`, "params.max_memroy: unknown parameter"},
			{"a request guard in dryrun", `"no_buildkit_session": "dryrun"`, `"no_buildkit_session": "dryrun", "request_unknown_write_route": "dryrun"`, "modes.request_unknown_write_route: request_* guards are always enforced"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				edited := bytes.Replace(origData, []byte(tc.from), []byte(tc.to), 1)
				if bytes.Equal(edited, origData) {
					t.Fatalf("data.json has no %s to edit", tc.from)
				}
				off := logSize(t, hs.pluginLog)
				hs.writeFileAtomic(t, dataFile, edited)
				line := waitForLog(t, hs.pluginLog, off, "keeping", reloadTimeout)
				if !strings.Contains(line, tc.want) {
					t.Errorf("reload refused, but not for %q: %s", tc.want, line)
				}
				// The last good policy still caps memory at 4 GiB: with "4g"
				// loaded, 8 GiB would pass (Rego orders every number before
				// every string).
				d := expectDenied(t, hs.docker(t, runArgs(replace(hardened, "--memory", "--memory=8g"), "true")...))
				if len(d.rules) != 1 || d.rules[0] != "memory_limit" {
					t.Errorf("with the rejected edit, denied for %v, want [memory_limit]", d.rules)
				}
				// policy check refuses the same directory, as serve would.
				if out, code := hs.dockwardCmd(t, "policy", "check", hs.policyDir); code == 0 || !strings.Contains(out, strings.ReplaceAll(tc.want, `\"`, `"`)) {
					t.Errorf("dockward policy check = %d:\n%s", code, out)
				}
				hs.writeFileAtomic(t, dataFile, origData)
				time.Sleep(time.Second)
			})
		}
	})

	t.Run("fixed edit takes effect", func(t *testing.T) {
		var data map[string]any
		if err := json.Unmarshal(origData, &data); err != nil {
			t.Fatalf("data.json: %v", err)
		}
		cfg, ok := data["authz_config"].(map[string]any)
		if !ok {
			t.Fatalf("data.json has no authz_config object")
		}
		modes, _ := cfg["modes"].(map[string]any)
		if modes == nil {
			modes = map[string]any{}
		}
		modes["read_only_rootfs"] = "dryrun"
		cfg["modes"] = modes
		edited, err := json.MarshalIndent(data, "", "  ")
		if err != nil {
			t.Fatal(err)
		}

		off := logSize(t, hs.pluginLog)
		auditBefore := len(hs.auditRecords(t))
		hs.writeFileAtomic(t, ruleFile, origRule)
		hs.writeFileAtomic(t, dataFile, edited)
		waitForLog(t, hs.pluginLog, off, "policy reloaded", reloadTimeout)

		hs.runAllowed(t, noReadOnly)
		recs := hs.auditRecords(t)[auditBefore:]
		var found bool
		for _, rec := range recs {
			if rec.Decision == "dryrun-deny" && rec.Endpoint == "container.create" && rec.has(rec.DryRun, "read_only_rootfs") {
				found = true
			}
		}
		if !found {
			t.Errorf("no dryrun-deny record naming read_only_rootfs among %d new audit records:\n%s", len(recs), tail(hs.auditLog, len(recs)+1))
		}
		// Other rules still enforce.
		d := expectDenied(t, hs.docker(t, runArgs(without(noReadOnly, "--cap-drop"), "true")...))
		if len(d.rules) != 1 || d.rules[0] != "drop_all_caps" {
			t.Errorf("in dryrun for read_only_rootfs, denied for %v, want [drop_all_caps]", d.rules)
		}
	})
}
