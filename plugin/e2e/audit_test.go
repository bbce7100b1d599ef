//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestDenyIsAuditedWithoutSecrets: a denial leaves one audit record naming
// the rule and the endpoint, and an Env value reaches neither the audit log
// nor the plugin's own log (which runs at debug level, logging every input).
func TestDenyIsAuditedWithoutSecrets(t *testing.T) {
	hs := env(t)
	const secret = "hunter2"
	flags := with(without(hardened, "--read-only"), "-e", "SECRET_TOKEN="+secret, "--name", "dw-audited")
	d := expectDenied(t, hs.docker(t, runArgs(flags, "true")...))
	if len(d.rules) != 1 || d.rules[0] != "read_only_rootfs" {
		t.Errorf("denied for %v, want [read_only_rootfs]", d.rules)
	}

	fi, err := os.Stat(hs.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("audit log mode %o, want 600", mode)
	}

	var found *auditRecord
	for _, rec := range hs.auditRecords(t) {
		if rec.Decision != "deny" || rec.Endpoint != "container.create" || !rec.has(rec.Violations, "read_only_rootfs") {
			continue
		}
		if d.decisionID != "" && rec.DecisionID != d.decisionID {
			continue
		}
		found = &rec
	}
	if found == nil {
		t.Fatalf("no deny record for container.create with read_only_rootfs (decision %q) in %s:\n%s",
			d.decisionID, hs.auditLog, tail(hs.auditLog, 5))
	}
	checks := []struct {
		field, got string
		ok         bool
	}{
		{"decision_id", found.DecisionID, found.DecisionID != ""},
		{"image", found.Image, found.Image == testImage},
		{"method", found.Method, found.Method == "POST"},
		{"path", found.Path, strings.Contains(found.Path, "/containers/create")},
		{"policy_revision", found.PolicyRevision, found.PolicyRevision != ""},
		{"user", "<absent>", found.User != nil},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("audit record field %s = %q", c.field, c.got)
		}
	}

	for _, path := range []string{hs.auditLog, hs.pluginLog} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("%s holds the value of an Env entry (%q)", path, secret)
		}
	}
}
