package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/decision"
)

func TestOpenModeAndRotation(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "log")
	path := filepath.Join(dir, "audit.log")
	l, err := Open(Options{Path: path, MaxSizeMB: 1, MaxBackups: 3, Version: "v"})
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{DecisionID: "id", Decision: decision.Decision{Violations: []decision.Violation{{ID: "r", Msg: strings.Repeat("x", 1000)}}},
		Method: "POST", Path: "/containers/create", Endpoint: "container.create", Latency: 1500 * time.Microsecond}
	// ~1.2 KiB a record: 2000 records cross the 1 MiB rotation size.
	for range 2000 {
		if err := l.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit*.log"))
	if len(files) < 2 {
		t.Fatalf("no rotation: %v", files)
	}
	total := 0
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, info.Mode().Perm())
		}
		fh, _ := os.Open(f)
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("%s: not JSON: %q", f, sc.Text())
			}
			if rec[KeyDecision] != "deny" || rec[KeySchema] != Schema || rec[KeyLatencyMS] != 1.5 {
				t.Fatalf("record %v", rec)
			}
			total++
		}
		fh.Close()
	}
	if total != 2000 {
		t.Errorf("%d records across files, want 2000 (none lost in rotation)", total)
	}
}

func TestOpenTightensExistingMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(Options{Path: path, MaxSizeMB: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", info.Mode().Perm())
	}
}
