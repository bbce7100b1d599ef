package input

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxSymlinks bounds the symlinks one resolution follows (Linux stops at 40;
// more than this is a loop).
const maxSymlinks = 255

// RootedResolver resolves host paths through a view of the host's root
// filesystem mounted at Root, as a managed plugin sees it (the host's / at
// /host): symlinks are followed component by component as if Root were /,
// so an absolute link target restarts at Root and ".." never climbs above
// it. The result is the host-side path, without the Root prefix.
//
// Like HostResolver, the longest existing prefix is resolved and the rest
// appended (B6); an entry that exists but cannot be resolved (a dangling or
// looping symlink, a permission error) is an error.
type RootedResolver struct {
	Root string
}

// component is one path element still to walk; fromLink marks elements that
// came from a symlink's target, where a missing entry means a dangling link.
type component struct {
	name     string
	fromLink bool
}

func splitPath(p string, fromLink bool) []component {
	var out []component
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, component{name: s, fromLink: fromLink})
		}
	}
	return out
}

// Resolve resolves p (an absolute host path) under Root.
func (r RootedResolver) Resolve(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("not an absolute path")
	}
	root := r.Root
	if root == "" {
		root = "/"
	}
	if !filepath.IsAbs(root) {
		return "", fmt.Errorf("host root %q is not an absolute path", r.Root)
	}
	root = filepath.Clean(root)

	pending := splitPath(filepath.Clean(p), false)
	resolved := "/" // host-side, always clean
	links := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		if c.name == ".." {
			resolved = filepath.Dir(resolved) // Dir("/") is "/": never above Root
			continue
		}
		next := filepath.Join(resolved, c.name)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("%s cannot be resolved: %w", next, unrooted(err, root))
			}
			if c.fromLink {
				return "", fmt.Errorf("%s exists but cannot be resolved: a symlink on the way points to %s, which does not exist", p, next)
			}
			// Every link-derived element is consumed before an original
			// one, so the rest is the caller's own, already cleaned.
			rest := []string{next}
			for _, pc := range pending {
				rest = append(rest, pc.name)
			}
			return filepath.Join(rest...), nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", fmt.Errorf("%s exists but cannot be resolved: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", fmt.Errorf("%s cannot be resolved: %w", next, unrooted(err, root))
		}
		if target == "" {
			return "", fmt.Errorf("%s exists but cannot be resolved: empty symlink %s", p, next)
		}
		if filepath.IsAbs(target) {
			resolved = "/"
		}
		pending = append(splitPath(target, true), pending...)
	}
	return resolved, nil
}

// unrooted strips the Root prefix from a path error, so that messages name
// host paths.
func unrooted(err error, root string) error {
	var pe *fs.PathError
	if root != "/" && errors.As(err, &pe) {
		if rel, rerr := filepath.Rel(root, pe.Path); rerr == nil && !strings.HasPrefix(rel, "..") {
			return &fs.PathError{Op: pe.Op, Path: filepath.Join("/", rel), Err: pe.Err}
		}
	}
	return err
}
