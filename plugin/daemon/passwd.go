package daemon

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/moby/sys/user"

	"github.com/dockward/dockward/plugin/input"
)

// passwdCache holds each image's /etc/passwd by image id: an image id
// names immutable content, so its /etc/passwd never changes. The file is
// kept as read and parsed by the runtime's own library at each lookup.
type passwdCache struct {
	mu    sync.Mutex
	files map[string][]byte // image id -> /etc/passwd (nil: the image has none)
	size  int
}

const (
	maxCachedImages = 512
	maxCachedBytes  = 16 << 20
	maxPasswdBytes  = 4 << 20
)

func (p *passwdCache) get(id string) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.files[id]
	return f, ok
}

func (p *passwdCache) put(id string, file []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.files == nil || len(p.files) >= maxCachedImages || p.size+len(file) > maxCachedBytes {
		p.files, p.size = map[string][]byte{}, 0
	}
	p.files[id] = file
	p.size += len(file)
}

// ImageUserID resolves a user name to its uid the way the daemon does when
// it starts the container (daemon/oci_linux.go getUser: moby/sys/user's
// GetExecUser over the image's /etc/passwd). That parser is not a strict
// one: a uid field that is not a number is uid 0, short lines fill what
// they have, and the first line with the name wins — so
// "app:x::0::/:/bin/sh" before "app:x:1000:..." makes app root (issue 11
// item 9). It reads the file through the Docker API from a container
// created (never started) for the purpose, with a configuration that
// passes the restricted policy, and removes it.
func (c *Client) ImageUserID(ctx context.Context, imageID, name string) (int, error) {
	file, ok := c.passwd.get(imageID)
	if !ok {
		var err error
		if file, err = c.readPasswd(ctx, imageID); err != nil {
			return 0, err
		}
		c.passwd.put(imageID, file)
	}
	return LookupUID(file, name)
}

// LookupUID is the uid the runtime gives user name with passwd as the
// image's /etc/passwd (nil: the image has none); input.ErrNotFound when
// the runtime would find no such user (and refuse to start).
func LookupUID(passwd []byte, name string) (int, error) {
	if passwd == nil {
		return 0, input.ErrNotFound
	}
	// The group file only adds groups; the uid comes from passwd alone.
	u, err := user.GetExecUser(name, nil, bytes.NewReader(passwd), nil)
	if errors.Is(err, user.ErrNoPasswdEntries) {
		return 0, input.ErrNotFound
	}
	if err != nil {
		// e.g. a line too long for the runtime's scanner: it would not
		// start the container; dockward cannot say which uid it is.
		return 0, fmt.Errorf("parse /etc/passwd: %w", err)
	}
	return u.Uid, nil
}

func (c *Client) readPasswd(ctx context.Context, imageID string) ([]byte, error) {
	// The whole read (create, copy, remove) fits the decision's deadline:
	// the caller's ctx carries eval_timeout.
	ctx, cancel := c.helperContext(ctx)
	defer cancel()
	created, err := c.c.ContainerCreate(ctx, helperSpec(imageID))
	if err != nil {
		return nil, fmt.Errorf("create a container to read /etc/passwd of %s: %w", imageID, err)
	}
	defer c.removeHelper(ctx, created.ID)
	res, err := c.c.CopyFromContainer(ctx, created.ID, client.CopyFromContainerOptions{SourcePath: "/etc/passwd"})
	if cerrdefs.IsNotFound(err) {
		return nil, nil // no /etc/passwd: no names resolve
	}
	if err != nil {
		return nil, fmt.Errorf("read /etc/passwd of %s: %w", imageID, err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read /etc/passwd of %s: %w", imageID, err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(io.LimitReader(tr, maxPasswdBytes+1))
			if err != nil {
				return nil, fmt.Errorf("read /etc/passwd of %s: %w", imageID, err)
			}
			if len(b) > maxPasswdBytes {
				return nil, fmt.Errorf("/etc/passwd of %s is larger than %d bytes", imageID, maxPasswdBytes)
			}
			if b == nil {
				b = []byte{}
			}
			return b, nil
		}
	}
}
