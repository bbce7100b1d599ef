package owner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func open(t *testing.T, path string, max int) *Store {
	t.Helper()
	s, err := Open(path, max)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock makes records' created times distinct and ordered.
func clock(s *Store, start time.Time) {
	t := start
	s.now = func() time.Time { t = t.Add(time.Second); return t }
}

func TestRecordLookupDelete(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "owners.db"), 0)
	defer s.Close()
	clock(s, time.Unix(1000, 0))
	steps := []struct {
		name            string
		do              func() error
		kind, id, owner string // the lookup after the step
		found           bool
	}{
		{"absent: nobody", func() error { return nil }, Container, "c1", "", false},
		{"put", func() error { _, err := s.Put(Container, "c1", "alice", KeepExisting, time.Time{}); return err }, Container, "c1", "alice", true},
		{"same id of another kind is another object", func() error { return nil }, Volume, "c1", "", false},
		{"keep existing: a second create does not overwrite", func() error {
			_, err := s.Put(Container, "c1", "bob", KeepExisting, time.Time{})
			return err
		}, Container, "c1", "alice", true},
		{"replace older: a record made after the cut is kept", func() error {
			_, err := s.Put(Container, "c1", "bob", ReplaceOlder, time.Unix(1000, 0))
			return err
		}, Container, "c1", "alice", true},
		{"replace older: a record made before the cut is stale", func() error {
			_, err := s.Put(Container, "c1", "bob", ReplaceOlder, time.Unix(5000, 0))
			return err
		}, Container, "c1", "bob", true},
		{"replace (dockward own)", func() error { _, err := s.Put(Container, "c1", "carol", Replace, time.Time{}); return err }, Container, "c1", "carol", true},
		{"delete", func() error { return s.Delete(Container, "c1") }, Container, "c1", "", false},
		{"delete of nothing", func() error { return s.Delete(Network, "n1") }, Network, "n1", "", false},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		r, found, err := s.Lookup(st.kind, st.id)
		if err != nil {
			t.Fatalf("%s: lookup: %v", st.name, err)
		}
		if found != st.found || r.Owner != st.owner {
			t.Errorf("%s: lookup %s %s = %q found %v, want %q found %v", st.name, st.kind, st.id, r.Owner, found, st.owner, st.found)
		}
	}
	if n, _ := s.Len(); n != 0 {
		t.Errorf("len after delete = %d, want 0", n)
	}
}

func TestPutRefusesIncompleteRecords(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "owners.db"), 0)
	defer s.Close()
	for _, c := range []struct{ kind, id, owner string }{
		{"image", "x", "alice"}, {Container, "", "alice"}, {Container, "x", ""},
	} {
		if _, err := s.Put(c.kind, c.id, c.owner, Replace, time.Time{}); err == nil {
			t.Errorf("Put(%q, %q, %q) wrote", c.kind, c.id, c.owner)
		}
	}
}

// TestRestart: records survive closing and reopening the file (what a
// plugin restart does), and so does the count the bound uses.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owners.db")
	s := open(t, path, 3)
	for _, id := range []string{"a", "b"} {
		if _, err := s.Put(Volume, id, "alice", KeepExisting, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, 3)
	defer s.Close()
	for _, id := range []string{"a", "b"} {
		r, found, err := s.Lookup(Volume, id)
		if err != nil || !found || r.Owner != "alice" || r.Created.IsZero() {
			t.Errorf("after reopen: %s = %+v found %v err %v", id, r, found, err)
		}
	}
	if n, _ := s.Len(); n != 2 {
		t.Errorf("len after reopen = %d, want 2", n)
	}
}

// TestFullStoreEvictsOldest: at the bound the oldest record goes (that
// object belongs to nobody: admins only), loudly, and the new one is kept.
func TestFullStoreEvictsOldest(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "owners.db"), 3)
	defer s.Close()
	clock(s, time.Unix(0, 0))
	var evicted []string
	s.OnEvict = func(r Record) { evicted = append(evicted, r.Kind+"/"+r.ID+"/"+r.Owner) }
	for i, id := range []string{"c1", "c2", "c3", "c4", "c5"} {
		if _, err := s.Put(Container, id, "alice", KeepExisting, time.Time{}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if n, _ := s.Len(); n != 3 {
		t.Errorf("len = %d, want the bound 3", n)
	}
	want := map[string]bool{"c1": false, "c2": false, "c3": true, "c4": true, "c5": true}
	for id, kept := range want {
		if _, found, _ := s.Lookup(Container, id); found != kept {
			t.Errorf("%s kept = %v, want %v", id, found, kept)
		}
	}
	if len(evicted) != 2 || evicted[0] != "container/c1/alice" || evicted[1] != "container/c2/alice" {
		t.Errorf("evicted %v, want c1 then c2", evicted)
	}
	// Replacing a record at the bound evicts nothing.
	evicted = nil
	if _, err := s.Put(Container, "c3", "bob", Replace, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(evicted) != 0 {
		t.Errorf("replace at the bound evicted %v", evicted)
	}
}

// TestCorruptFile: a file that is not a store fails to open with
// ErrCorrupt naming the file and what to do; the plugin then serves with
// Broken, which fails every call (every owner-dependent request denied).
func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"garbage":   []byte("this is not a bbolt file, it is a text file that someone wrote here by mistake, long enough to be read"),
		"zeroed":    make([]byte, 64*1024),
		"too small": []byte("x"),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, 0)
			if err == nil {
				s.Close()
				t.Fatal("a corrupt file opened")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
			for _, want := range []string{path, "move the file aside"} {
				if !contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var b Owners = Broken{Err: err}
			if _, _, lerr := b.Lookup(Container, "x"); lerr == nil {
				t.Error("Broken.Lookup succeeded")
			}
			if wrote, perr := b.Put(Container, "x", "alice", Replace, time.Time{}); perr == nil || wrote {
				t.Error("Broken.Put succeeded")
			}
		})
	}
}

// TestLockedFile: a second process (here, a second Open) cannot take the
// file the serving plugin holds; it is told why.
func TestLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owners.db")
	s := open(t, path, 0)
	defer s.Close()
	_, err := Open(path, 0)
	if err == nil || !contains(err.Error(), "locked by another process") {
		t.Errorf("second open: %v, want locked", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
