//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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
