package userdb

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const passwd = `root:x:0:0:root:/root:/bin/bash
alice:x:1000:1000::/home/alice:/bin/sh
carol:x:1001:2000::/home/carol:/bin/sh
nogroup:x:1002:4242::/:/bin/sh
alice:x:0:0:shadowed by the first line::/bin/sh
`

const group = `root:x:0:
alice:x:1000:
docker:x:999:alice,bob
ci:x:2000:
wheel:x:10:carol,alice
`

func writeDB(t *testing.T, root, passwd, group string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"passwd": passwd, "group": group} {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHostGroups(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeDB(t, root, passwd, group)
	h := NewHost(root)
	tests := []struct {
		name string
		want []string
	}{
		{"alice", []string{"alice", "docker", "wheel"}}, // primary + supplementary, sorted; first passwd line wins
		{"carol", []string{"ci", "wheel"}},
		{"root", []string{"root"}},
		{"bob", []string{}},     // in a group's list but not in passwd: not a host user
		{"nogroup", []string{}}, // a primary gid /etc/group does not name
		{"remote", []string{}},  // a TLS user the host does not know
		{"", []string{}},
	}
	for _, tt := range tests {
		got, err := h.Groups(t.Context(), tt.name)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Groups(%q) = %#v, want %#v", tt.name, got, tt.want)
		}
	}
}

func TestHostGroupsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		want  string
	}{
		{"no passwd", func(t *testing.T, root string) {
			writeDB(t, root, passwd, group)
			os.Remove(filepath.Join(root, "etc/passwd"))
		}, "etc/passwd: no such file"},
		{"no group", func(t *testing.T, root string) {
			writeDB(t, root, passwd, group)
			os.Remove(filepath.Join(root, "etc/group"))
		}, "etc/group: no such file"},
		{"group is a directory", func(t *testing.T, root string) {
			writeDB(t, root, passwd, group)
			os.Remove(filepath.Join(root, "etc/group"))
			os.Mkdir(filepath.Join(root, "etc/group"), 0o755)
		}, "etc/group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			tt.setup(t, root)
			_, err := NewHost(root).Groups(t.Context(), "alice")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestHostRereads: a change to either file is seen at the next lookup
// (mtime, size or inode), and MaxAge forces a reread of files that look
// unchanged.
func TestHostRereads(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeDB(t, root, passwd, group)
	now := time.Unix(1000, 0)
	h := &Host{Root: root, now: func() time.Time { return now }}
	get := func() []string {
		t.Helper()
		g, err := h.Groups(t.Context(), "carol")
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := get(); !reflect.DeepEqual(g, []string{"ci", "wheel"}) {
		t.Fatalf("carol = %v", g)
	}
	// usermod -aG docker carol: a new file, renamed over (a new inode).
	tmp := filepath.Join(root, "etc/group.new")
	os.WriteFile(tmp, []byte(strings.Replace(group, "alice,bob", "alice,bob,carol", 1)), 0o644)
	if err := os.Rename(tmp, filepath.Join(root, "etc/group")); err != nil {
		t.Fatal(err)
	}
	if g := get(); !reflect.DeepEqual(g, []string{"ci", "docker", "wheel"}) {
		t.Errorf("after the edit carol = %v, want docker too", g)
	}
	// Rewritten in place with the same size and mtime: seen after MaxAge.
	p := filepath.Join(root, "etc/group")
	fi, _ := os.Stat(p)
	same := strings.Replace(strings.Replace(group, "alice,bob", "alice,bob,carol", 1), "wheel:x:10:carol,alice", "wheel:x:10:xarol,alice", 1)
	os.WriteFile(p, []byte(same), 0o644)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if g := get(); !reflect.DeepEqual(g, []string{"ci", "docker", "wheel"}) {
		t.Errorf("before MaxAge carol = %v, want the cached answer", g)
	}
	now = now.Add(MaxAge + time.Second)
	if g := get(); !reflect.DeepEqual(g, []string{"ci", "docker"}) {
		t.Errorf("after MaxAge carol = %v, want wheel gone", g)
	}
}
