package audit

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/decision"
)

func deny(user, image string, ids ...string) Event {
	var vs []decision.Violation
	for _, id := range ids {
		vs = append(vs, decision.Violation{ID: id, Msg: id + " broken"})
	}
	return Event{DecisionID: "d", User: user, Image: image, Method: "POST", Path: "/containers/create",
		Endpoint: "container.create", Decision: decision.Decision{Violations: vs}}
}

func dryrun(user, image string, ids ...string) Event {
	ev := deny(user, image)
	for _, id := range ids {
		ev.Decision.DryRun = append(ev.Decision.DryRun, decision.Violation{ID: id, Msg: "m"})
	}
	ev.Decision.Allow = true
	return ev
}

func composed(ev Event, project, service string) Event {
	ev.Decision.ComposeProject, ev.Decision.ComposeService = project, service
	return ev
}

func writeLog(t testing.TB, path string, events ...Event) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := New(f, nil, "t")
	for _, ev := range events {
		if err := l.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
}

func collect(t *testing.T, files []string, f Filter) ([]*Record, []BadLine) {
	t.Helper()
	var recs []*Record
	var bad []BadLine
	err := Scan(t.Context(), files, f, func(r *Record) error { recs = append(recs, r); return nil },
		func(b BadLine) { bad = append(bad, b) })
	if err != nil {
		t.Fatal(err)
	}
	return recs, bad
}

func TestScanFilters(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	withGroups := func(ev Event, level string, groups ...string) Event {
		ev.Groups, ev.Level = groups, level
		return ev
	}
	writeLog(t, path,
		withGroups(deny("alice", "busybox", "read_only_rootfs", "drop_all_caps"), "restricted", "docker", "alice"),
		withGroups(deny("bob", "registry.example.com/app:1", "no_privileged"), "baseline", "ci"),
		dryrun("alice", "registry.example.com/app:2", "pids_limit"),
		composed(deny("carol", "busybox", "cpu_limit"), "shop", "web"),
		composed(deny("dave", "busybox", "cpu_limit"), "blog", "web"),
	)
	past := time.Now().Add(-time.Hour)
	tests := []struct {
		name  string
		f     Filter
		users []string
	}{
		{"all", Filter{}, []string{"alice", "bob", "alice", "carol", "dave"}},
		{"compose project", Filter{Project: "shop"}, []string{"carol"}},
		{"compose service of every project", Filter{Service: "web"}, []string{"carol", "dave"}},
		{"compose service of a project", Filter{Project: "blog", Service: "web"}, []string{"dave"}},
		{"compose service no container has", Filter{Service: "db"}, nil},
		{"user", Filter{User: "alice"}, []string{"alice", "alice"}},
		{"rule enforced", Filter{Rule: "no_privileged"}, []string{"bob"}},
		{"rule in dryrun", Filter{Rule: "pids_limit"}, []string{"alice"}},
		{"image prefix", Filter{Image: "registry.example.com/*"}, []string{"bob", "alice"}},
		{"image exact", Filter{Image: "busybox"}, []string{"alice", "carol", "dave"}},
		{"decision", Filter{Decision: "dryrun-deny"}, []string{"alice"}},
		{"since", Filter{Since: past}, []string{"alice", "bob", "alice", "carol", "dave"}},
		{"until the past", Filter{Until: past}, nil},
		{"combined", Filter{User: "alice", Rule: "drop_all_caps", Decision: "deny"}, []string{"alice"}},
		{"group", Filter{Group: "ci"}, []string{"bob"}},
		{"group of several", Filter{Group: "docker"}, []string{"alice"}},
		{"group no one is in", Filter{Group: "wheel"}, nil},
		{"group is not a user name", Filter{Group: "bob"}, nil},
		{"level", Filter{Level: "baseline"}, []string{"bob"}},
		{"user and group", Filter{User: "alice", Group: "ci"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs, bad := collect(t, []string{path}, tt.f)
			var users []string
			for _, r := range recs {
				users = append(users, r.User)
			}
			if !reflect.DeepEqual(users, tt.users) || len(bad) != 0 {
				t.Errorf("users %v (bad %v), want %v", users, bad, tt.users)
			}
		})
	}
}

// TestScanBadLines: corrupt and truncated lines are reported with their line
// number and skipped; the scan goes on.
func TestScanBadLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	writeLog(t, path, deny("a", "i", "r"))
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintln(f, `{"time":"garbage`)
	fmt.Fprintln(f, `{"hello":"world"}`)
	f.Close()
	writeLog(t, path, deny("b", "i", "r"))
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprint(f, `{"time":"2026-11-26T00:00:00Z","decision":"de`) // killed mid-write
	f.Close()
	recs, bad := collect(t, []string{path}, Filter{})
	if len(recs) != 2 {
		t.Errorf("%d records, want 2", len(recs))
	}
	var lines []int
	for _, b := range bad {
		lines = append(lines, b.Line)
		if !strings.HasPrefix(b.String(), path+":") {
			t.Errorf("bad line report %q lacks file:line", b)
		}
	}
	if !reflect.DeepEqual(lines, []int{2, 3, 5}) {
		t.Errorf("bad lines %v, want [2 3 5]", lines)
	}
}

// TestFilesRotated: rotated backups (plain and gzip) are read oldest first,
// then the live file.
func TestFilesRotated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	writeLog(t, filepath.Join(dir, "audit-2026-11-25T10-00-00.000.log"), deny("first", "i", "r"))
	writeLog(t, filepath.Join(dir, "tmp"), deny("second", "i", "r"))
	raw, _ := os.ReadFile(filepath.Join(dir, "tmp"))
	os.Remove(filepath.Join(dir, "tmp"))
	gzf, _ := os.Create(filepath.Join(dir, "audit-2026-11-26T10-00-00.000.log.gz"))
	zw := gzip.NewWriter(gzf)
	zw.Write(raw)
	zw.Close()
	gzf.Close()
	writeLog(t, live, deny("third", "i", "r"))
	writeLog(t, filepath.Join(dir, "other.log"), deny("not-ours", "i", "r"))
	files, err := Files(live)
	if err != nil {
		t.Fatal(err)
	}
	recs, bad := collect(t, files, Filter{})
	var users []string
	for _, r := range recs {
		users = append(users, r.User)
	}
	if !reflect.DeepEqual(users, []string{"first", "second", "third"}) || len(bad) > 0 {
		t.Errorf("users %v bad %v", users, bad)
	}
	if _, err := Files(filepath.Join(t.TempDir(), "none.log")); err == nil {
		t.Error("missing log: no error")
	}
}

func TestFollowAcrossRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	writeLog(t, path, deny("old", "i", "r")) // before follow starts: not shown
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	var users []string
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, path, Filter{}, 10*time.Millisecond, func(r *Record) error {
			mu.Lock()
			users = append(users, r.User)
			mu.Unlock()
			return nil
		}, func(BadLine) {})
	}()
	time.Sleep(50 * time.Millisecond)
	writeLog(t, path, deny("new1", "i", "r"))
	// A half-written line must wait for its end.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	l := New(f, nil, "t")
	_ = l.Record(deny("split", "i", "r"))
	f.Close()
	time.Sleep(50 * time.Millisecond)
	if err := os.Rename(path, filepath.Join(dir, "audit-2026-11-26T00-00-00.000.log")); err != nil {
		t.Fatal(err)
	}
	writeLog(t, path, deny("rotated", "i", "r"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), users...)
		mu.Unlock()
		if len(got) >= 3 {
			if !reflect.DeepEqual(got, []string{"new1", "split", "rotated"}) {
				t.Fatalf("followed %v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("followed only %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	writeLog(t, path,
		deny("alice", "busybox", "read_only_rootfs", "drop_all_caps"),
		deny("alice", "busybox", "read_only_rootfs"),
		deny("", "nginx", "no_privileged"),
		dryrun("bob", "busybox", "pids_limit"),
	)
	s := NewSummary()
	recs, _ := collect(t, []string{path}, Filter{})
	for _, r := range recs {
		s.Add(r)
	}
	if s.Deny != 3 || s.DryRun != 1 {
		t.Fatalf("deny %d dryrun %d", s.Deny, s.DryRun)
	}
	want := []Count{{"read_only_rootfs", 2, 0}, {"drop_all_caps", 1, 0}, {"no_privileged", 1, 0}, {"pids_limit", 0, 1}}
	if got := s.ByRule(); !reflect.DeepEqual(got, want) {
		t.Errorf("by rule %v, want %v", got, want)
	}
	wantUsers := []Count{{"alice", 2, 0}, {"(anonymous)", 1, 0}, {"bob", 0, 1}}
	if got := s.ByUser(); !reflect.DeepEqual(got, wantUsers) {
		t.Errorf("by user %v, want %v", got, wantUsers)
	}
	wantImages := []Count{{"busybox", 2, 1}, {"nginx", 1, 0}}
	if got := s.ByImage(); !reflect.DeepEqual(got, wantImages) {
		t.Errorf("by image %v, want %v", got, wantImages)
	}
}
