package input

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootedTree builds a fake host root:
//
//	/etc/passwd                   file
//	/srv/data/                    dir
//	/srv/data/file                file
//	/srv/rel     -> data          relative link
//	/srv/abs     -> /etc          absolute link (restarts at Root)
//	/srv/up      -> ../../../..   climbs past Root (stays at Root)
//	/srv/upetc   -> ../../../../etc
//	/srv/chain   -> rel/../abs    link through a link and ..
//	/srv/dang    -> /nonexistent/x
//	/srv/dangrel -> data/missing
//	/srv/loop1   -> loop2, /srv/loop2 -> loop1
//	/srv/self    -> self
//	/srv/deep    -> /srv/rel/file (to a file)
//	/srv/run     -> /var/run, /var/run -> ../run, /run/docker.sock file
func rootedTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := func(p string) {
		mk(filepath.Dir(p))
		if err := os.WriteFile(filepath.Join(root, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(p, target string) {
		mk(filepath.Dir(p))
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	file("/etc/passwd")
	file("/srv/data/file")
	file("/run/docker.sock")
	link("/srv/rel", "data")
	link("/srv/abs", "/etc")
	link("/srv/up", "../../../..")
	link("/srv/upetc", "../../../../etc")
	link("/srv/chain", "rel/../abs")
	link("/srv/dang", "/nonexistent/x")
	link("/srv/dangrel", "data/missing")
	link("/srv/loop1", "loop2")
	link("/srv/loop2", "loop1")
	link("/srv/self", "self")
	link("/srv/deep", "/srv/rel/file")
	link("/var/run", "../run")
	link("/srv/run", "/var/run")
	return root
}

func TestRootedResolver(t *testing.T) {
	root := rootedTree(t)
	cases := []struct {
		path, want, err string
	}{
		{path: "/", want: "/"},
		{path: "/etc", want: "/etc"},
		{path: "/srv/data", want: "/srv/data"},
		{path: "/srv/data/", want: "/srv/data"},
		{path: "/srv/./data//file", want: "/srv/data/file"},
		{path: "/srv/rel", want: "/srv/data"},
		{path: "/srv/rel/file", want: "/srv/data/file"},
		{path: "/srv/abs", want: "/etc"},
		{path: "/srv/abs/passwd", want: "/etc/passwd"},
		{path: "/srv/chain", want: "/etc"},
		{path: "/srv/deep", want: "/srv/data/file"},
		{path: "/srv/run/docker.sock", want: "/run/docker.sock"},
		// .. never climbs above Root.
		{path: "/../../etc", want: "/etc"},
		{path: "/srv/../../../etc/passwd", want: "/etc/passwd"},
		{path: "/srv/up", want: "/"},
		{path: "/srv/up/etc", want: "/etc"},
		{path: "/srv/upetc", want: "/etc"},
		{path: "/srv/rel/../data", want: "/srv/data"}, // cleaned lexically first, as dockerd does
		// Longest existing prefix resolved, the rest appended (B6).
		{path: "/srv/new/dir", want: "/srv/new/dir"},
		{path: "/srv/rel/new/dir", want: "/srv/data/new/dir"},
		{path: "/srv/abs/new", want: "/etc/new"},
		{path: "/nonexistent", want: "/nonexistent"},
		// Entries that exist but cannot be resolved.
		{path: "/srv/dang", err: "does not exist"},
		{path: "/srv/dang/more", err: "does not exist"},
		{path: "/srv/dangrel", err: "does not exist"},
		{path: "/srv/loop1", err: "too many levels of symbolic links"},
		{path: "/srv/self/x", err: "too many levels of symbolic links"},
		{path: "/etc/passwd/x", err: "not a directory"},
		{path: "srv/data", err: "not an absolute path"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			got, err := RootedResolver{Root: root}.Resolve(tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Resolve(%q) = %q, %v; want an error containing %q", tc.path, got, err, tc.err)
				}
				if strings.Contains(err.Error(), root) {
					t.Errorf("error names the root %s: %v", root, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
			}
		})
	}
}

// With links that stay inside the tree, resolving under Root and resolving
// on the host agree.
func TestRootedResolverAgreesWithHost(t *testing.T) {
	root := rootedTree(t)
	hostRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/srv/rel", "/srv/rel/file", "/srv/rel/new/x", "/srv/data", "/srv/dangrel", "/srv/loop1"} {
		got, gotErr := RootedResolver{Root: root}.Resolve(p)
		want, wantErr := HostResolver{}.Resolve(filepath.Join(hostRoot, p))
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%s: rooted %q, %v; host %q, %v", p, got, gotErr, want, wantErr)
		}
		if gotErr == nil && filepath.Join(hostRoot, got) != want {
			t.Errorf("%s: rooted %q (%s under the root), host %q", p, got, filepath.Join(hostRoot, got), want)
		}
	}
}

func TestRootedResolverRootSlash(t *testing.T) {
	got, err := RootedResolver{}.Resolve("/")
	if err != nil || got != "/" {
		t.Fatalf(`Resolve("/") with an empty Root = %q, %v`, got, err)
	}
	if _, err := (RootedResolver{Root: "host"}).Resolve("/etc"); err == nil {
		t.Fatal("a relative Root must be an error")
	}
}
