package audit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dockward/dockward/plugin/decision"
)

// benchLog writes n realistic records (a deny with three violations, every
// fifth a dry-run) to a file in dir.
func benchLog(b *testing.B, dir string, n int) string {
	b.Helper()
	path := filepath.Join(dir, "audit.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	l := New(w, nil, "v0.1.0")
	rules := []string{"read_only_rootfs", "drop_all_caps", "non_root_user", "memory_limit", "cpu_limit", "pids_limit"}
	for i := range n {
		ev := Event{DecisionID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), User: fmt.Sprintf("user%d", i%50),
			Image: fmt.Sprintf("registry.example.com/team%d/app:%d", i%20, i%7), Method: "POST", Path: "/containers/create",
			Endpoint: "container.create", PolicyRevision: "5f1e0c3b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"}
		for j := range 3 {
			ev.Decision.Violations = append(ev.Decision.Violations, decision.Violation{ID: rules[(i+j)%len(rules)], Msg: "root filesystem is writable"})
		}
		if i%5 == 0 {
			ev.Decision.DryRun, ev.Decision.Violations, ev.Decision.Allow = ev.Decision.Violations, nil, true
		}
		if err := l.Record(ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkScan1M filters a 1,000,000-record audit log (about 450 MB), as
// `dockward audit` does. Reported: seconds per full scan, matches, and the
// largest heap seen during the scan (it must stay flat: records stream).
// Results: plugin/BENCHMARKS.md.
func BenchmarkScan1M(b *testing.B) {
	const n = 1_000_000
	path := benchLog(b, b.TempDir(), n)
	info, _ := os.Stat(path)
	filters := []struct {
		name string
		f    Filter
	}{
		{"no_filter", Filter{}},
		{"rule", Filter{Rule: "pids_limit"}},
		{"user_and_rule", Filter{User: "user7", Rule: "memory_limit"}},
		{"image_prefix", Filter{Image: "registry.example.com/team3/*"}},
	}
	for _, bf := range filters {
		b.Run(bf.name, func(b *testing.B) {
			b.SetBytes(info.Size())
			var maxHeap uint64
			matches := 0
			for b.Loop() {
				matches = 0
				var ms runtime.MemStats
				err := Scan(b.Context(), []string{path}, bf.f, func(*Record) error {
					matches++
					if matches%100_000 == 0 {
						runtime.ReadMemStats(&ms)
						maxHeap = max(maxHeap, ms.HeapInuse)
					}
					return nil
				}, func(bl BadLine) { b.Fatalf("bad line %v", bl) })
				if err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&ms)
				maxHeap = max(maxHeap, ms.HeapInuse)
			}
			b.ReportMetric(float64(matches), "matches")
			b.ReportMetric(float64(maxHeap)/(1<<20), "MiB-heap-max")
		})
	}
}
