package input

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Resolver resolves a cleaned host path to the path the kernel would reach.
type Resolver interface {
	Resolve(hostPath string) (string, error)
}

// HostResolver resolves paths on the local filesystem. The plugin must run on
// the daemon's host, in its mount namespace, for this to mean anything.
type HostResolver struct{}

func (b Builder) resolver() Resolver {
	if b.Resolver == nil {
		return HostResolver{}
	}
	return b.Resolver
}

// Resolve resolves symlinks in the longest existing prefix of p and appends
// the rest (B6: a bind can name a path that does not exist yet, under a
// symlinked directory). An entry that exists but cannot be resolved (a
// dangling or looping symlink, a permission error) is an error.
func (r HostResolver) Resolve(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("not an absolute path")
	}
	p = filepath.Clean(p)
	rest := ""
	cur := p
	for {
		resolved, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(resolved, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if _, lerr := os.Lstat(cur); lerr == nil {
			return "", fmt.Errorf("%s exists but cannot be resolved: %w", cur, err)
		}
		if cur == "/" {
			return "", err
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = filepath.Dir(cur)
	}
}
