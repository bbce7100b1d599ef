// Package userdb reads the host's user database (/etc/passwd and
// /etc/group, under the host root the plugin sees) to give an
// authenticated user their groups: data.json grants admins, exemptions and
// levels by group, as Kubernetes does. It reads the files the way the
// daemon reads an image's (github.com/moby/sys/user), not through NSS: the
// managed plugin has no NSS of the host, only its files under --host-root.
package userdb

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/moby/sys/user"
)

// maxFileBytes bounds what one database file may make the plugin hold.
const maxFileBytes = 16 << 20

// MaxAge is the longest a parsed database is used without a reread, even
// when the files look unchanged (a filesystem with coarse mtimes, a file
// rewritten in place within one tick).
const MaxAge = 30 * time.Second

// Host resolves groups from <Root>/etc/passwd and <Root>/etc/group. The
// files are stat'ed at each lookup and parsed again only when one changed
// (mtime, size or inode) or MaxAge passed: they change rarely and are read
// on every authenticated request.
type Host struct {
	Root string // "" is /
	now  func() time.Time

	mu     sync.Mutex
	stamp  [2]fileStamp
	parsed time.Time
	groups map[string][]string // user name -> sorted group names
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

// NewHost returns a resolver for the user database under root.
func NewHost(root string) *Host { return &Host{Root: root, now: time.Now} }

func (h *Host) paths() [2]string {
	root := h.Root
	if root == "" {
		root = "/"
	}
	return [2]string{filepath.Join(root, "etc/passwd"), filepath.Join(root, "etc/group")}
}

// Groups returns the names of name's groups, its primary group (the passwd
// entry's gid, when /etc/group names it) included, sorted. A name the host
// does not know has no groups (a remote TLS user): nil error, empty list.
// An unreadable database is an error: the caller must not guess.
func (h *Host) Groups(_ context.Context, name string) ([]string, error) {
	paths := h.paths()
	var stamp [2]fileStamp
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read the host's user database: %w", err)
		}
		stamp[i] = fileStamp{mtime: fi.ModTime(), size: fi.Size()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			stamp[i].ino = st.Ino
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now
	if h.now != nil {
		now = h.now
	}
	if h.groups == nil || stamp != h.stamp || now().Sub(h.parsed) > MaxAge {
		db, err := parse(paths)
		if err != nil {
			return nil, err
		}
		h.groups, h.stamp, h.parsed = db, stamp, now()
	}
	gs := h.groups[name]
	out := make([]string, len(gs))
	copy(out, gs)
	return out, nil
}

// parse reads both files and indexes every user's groups. The first passwd
// line of a name wins, as in the runtime's GetExecUser.
func parse(paths [2]string) (map[string][]string, error) {
	pf, err := readBounded(paths[0])
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	users, err := user.ParsePasswd(pf)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", paths[0], err)
	}
	gf, err := readBounded(paths[1])
	if err != nil {
		return nil, err
	}
	defer gf.Close()
	groups, err := user.ParseGroup(gf)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", paths[1], err)
	}
	byGid := map[int]string{}
	members := map[string]map[string]bool{}
	for _, g := range groups {
		if _, ok := byGid[g.Gid]; !ok && g.Name != "" {
			byGid[g.Gid] = g.Name
		}
		for _, m := range g.List {
			if members[m] == nil {
				members[m] = map[string]bool{}
			}
			members[m][g.Name] = true
		}
	}
	db := map[string][]string{}
	for _, u := range users {
		if _, seen := db[u.Name]; seen || u.Name == "" {
			continue
		}
		set := map[string]bool{}
		if name, ok := byGid[u.Gid]; ok {
			set[name] = true
		}
		for g := range members[u.Name] {
			if g != "" {
				set[g] = true
			}
		}
		list := make([]string, 0, len(set))
		for g := range set {
			list = append(list, g)
		}
		sort.Strings(list)
		db[u.Name] = list
	}
	return db, nil
}

type boundedFile struct {
	io.Reader
	f *os.File
}

func (b boundedFile) Close() error { return b.f.Close() }

func readBounded(p string) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read the host's user database: %w", err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() > maxFileBytes {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is over %d MiB", p, maxFileBytes>>20)
		}
		return nil, fmt.Errorf("read the host's user database: %w", err)
	}
	return boundedFile{io.LimitReader(f, maxFileBytes), f}, nil
}
