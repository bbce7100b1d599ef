package daemon

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/dockward/dockward/plugin/input"
)

// passwdCache holds each image's users by image id: an image id names
// immutable content, so its /etc/passwd never changes.
type passwdCache struct {
	mu    sync.Mutex
	users map[string]map[string]int // image id -> name -> uid
}

const maxCachedImages = 512

func (p *passwdCache) get(id string) (map[string]int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.users[id]
	return u, ok
}

func (p *passwdCache) put(id string, users map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil || len(p.users) >= maxCachedImages {
		p.users = map[string]map[string]int{}
	}
	p.users[id] = users
}

// ImageUserID resolves a user name to its uid the way the runtime does: in
// the image's /etc/passwd. It reads the file through the Docker API from a
// container created (never started) for the purpose, with a configuration
// that passes the restricted policy, and removes it.
func (c *Client) ImageUserID(ctx context.Context, imageID, name string) (int, error) {
	users, ok := c.passwd.get(imageID)
	if !ok {
		var err error
		if users, err = c.readPasswd(ctx, imageID); err != nil {
			return 0, err
		}
		c.passwd.put(imageID, users)
	}
	uid, ok := users[name]
	if !ok {
		return 0, input.ErrNotFound
	}
	return uid, nil
}

func (c *Client) readPasswd(ctx context.Context, imageID string) (map[string]int, error) {
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
		return map[string]int{}, nil // no /etc/passwd: no names resolve
	}
	if err != nil {
		return nil, fmt.Errorf("read /etc/passwd of %s: %w", imageID, err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return map[string]int{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read /etc/passwd of %s: %w", imageID, err)
		}
		if h.Typeflag == tar.TypeReg {
			return ParsePasswd(io.LimitReader(tr, 4<<20)), nil
		}
	}
}

// ParsePasswd reads name:password:uid:... lines; malformed lines are skipped,
// as the runtime's parser does.
func ParsePasswd(r io.Reader) map[string]int {
	users := map[string]int{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		if _, seen := users[f[0]]; !seen { // the first entry wins
			users[f[0]] = uid
		}
	}
	return users
}
