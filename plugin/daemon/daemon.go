// Package daemon is dockward's client of the Docker daemon it guards: the
// lookups a decision needs (an image's configured user, a container joined
// by namespace or --volumes-from, a named volume's options) and the engine
// version. Calls go through the Docker API on the daemon's socket, so they
// are themselves authorized (as reads) and bounded in time.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockward/dockward/plugin/input"
)

// Client looks objects up on one daemon.
type Client struct {
	c       *client.Client
	timeout time.Duration
	passwd  passwdCache

	mu       sync.Mutex
	cgroupns string    // the daemon's default cgroup namespace mode, once known
	api      string    // the daemon's API version, when last asked
	apiAt    time.Time // when
}

// New returns a client of the daemon at host (unix:///var/run/docker.sock),
// each call bounded by timeout. It does not connect until the first call:
// the plugin starts before dockerd.
func New(host string, timeout time.Duration) (*Client, error) {
	c, err := client.New(client.WithHost(host)) // negotiates the API version itself
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", host, err)
	}
	return &Client{c: c, timeout: timeout}, nil
}

var _ input.Lookup = (*Client)(nil)

// Image returns what an image reference (name, name:tag, name@digest, id or
// short id) resolves to on the daemon.
func (c *Client) Image(ctx context.Context, ref string) (input.ImageInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return input.ImageInfo{}, input.ErrNotFound
		}
		return input.ImageInfo{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	info := input.ImageInfo{ID: res.ID, RepoTags: res.RepoTags, RepoDigests: res.RepoDigests}
	if res.Config != nil {
		info.User = res.Config.User
	}
	return info, nil
}

// Container returns a container as the daemon has it, its configuration as
// its creator asked for it (input.AsRequested): the defaults the daemon
// filled in are taken out, so a joined container is judged on the same
// terms as a create.
func (c *Client) Container(ctx context.Context, ref string) (input.ContainerInfo, error) {
	dflt := c.defaultCgroupnsCached(ctx)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return input.ContainerInfo{}, input.ErrNotFound
		}
		return input.ContainerInfo{}, fmt.Errorf("inspect container %s: %w", ref, err)
	}
	ct := res.Container
	cfg, hc := ct.Config, ct.HostConfig
	if cfg == nil {
		cfg = &container.Config{}
	}
	if hc == nil {
		hc = &container.HostConfig{}
	}
	asked := input.AsRequested(*hc, dflt)
	info := input.ContainerInfo{ID: ct.ID, Name: strings.TrimPrefix(ct.Name, "/"), ImageID: ct.Image, Config: cfg, HostConfig: &asked}
	if ct.NetworkSettings != nil {
		// Every configured network, started or not (a created
		// container's entries have no NetworkID until it is attached).
		for name, ep := range ct.NetworkSettings.Networks {
			cn := input.ContainerNetwork{Name: name}
			if ep != nil {
				cn.NetworkID = ep.NetworkID
			}
			info.Networks = append(info.Networks, cn)
		}
		sort.Slice(info.Networks, func(i, j int) bool { return info.Networks[i].Name < info.Networks[j].Name })
	}
	return info, nil
}

// Network returns a network as the daemon resolves the reference (full
// id, name, id prefix); ErrNotFound when it resolves to none.
func (c *Client) Network(ctx context.Context, ref string) (input.NetworkInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.NetworkInspect(ctx, ref, client.NetworkInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return input.NetworkInfo{}, input.ErrNotFound
		}
		return input.NetworkInfo{}, fmt.Errorf("inspect network %s: %w", ref, err)
	}
	n := res.Network
	return input.NetworkInfo{ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Internal: n.Internal,
		ConfigOnly: n.ConfigOnly, ConfigFrom: n.ConfigFrom.Network, Options: n.Options}, nil
}

// Service returns a swarm service and its previous spec (what a rollback
// runs); ErrNotFound when the manager has no such service.
func (c *Client) Service(ctx context.Context, ref string) (input.ServiceInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.ServiceInspect(ctx, ref, client.ServiceInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return input.ServiceInfo{}, input.ErrNotFound
		}
		return input.ServiceInfo{}, fmt.Errorf("inspect service %s: %w", ref, err)
	}
	info := input.ServiceInfo{ID: res.Service.ID, Spec: res.Service.Spec, PreviousSpec: res.Service.PreviousSpec}
	var raw struct{ PreviousSpec json.RawMessage }
	if err := json.Unmarshal(res.Raw, &raw); err == nil && len(raw.PreviousSpec) > 0 && string(raw.PreviousSpec) != "null" {
		info.PreviousRaw = raw.PreviousSpec
	}
	return info, nil
}

// Exec returns the full id of the container an exec instance runs in.
func (c *Client) Exec(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.ExecInspect(ctx, id, client.ExecInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", input.ErrNotFound
		}
		return "", fmt.Errorf("inspect exec %s: %w", id, err)
	}
	if res.ContainerID == "" {
		return "", fmt.Errorf("inspect exec %s: the daemon named no container", id)
	}
	return res.ContainerID, nil
}

// Task returns the id of the service a swarm task belongs to.
func (c *Client) Task(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.TaskInspect(ctx, id, client.TaskInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", input.ErrNotFound
		}
		return "", fmt.Errorf("inspect task %s: %w", id, err)
	}
	if res.Task.ServiceID == "" {
		return "", fmt.Errorf("inspect task %s: the manager named no service", id)
	}
	return res.Task.ServiceID, nil
}

// Volume returns a named volume's driver and options; ErrNotFound when it
// does not exist yet (the daemon will create it empty).
func (c *Client) Volume(ctx context.Context, name string) (string, map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", nil, input.ErrNotFound
		}
		return "", nil, fmt.Errorf("inspect volume %s: %w", name, err)
	}
	return res.Volume.Driver, res.Volume.Options, nil
}

// Version returns the engine version and API version of the daemon.
func (c *Client) Version(ctx context.Context) (engine, api string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := c.c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", "", err
	}
	return v.Version, v.APIVersion, nil
}

// EngineAPIVersion is the highest API version the daemon speaks. It
// changes only when dockerd is replaced, which the plugin (started before
// dockerd, and outliving it) is not told of: the answer is kept for
// apiVersionTTL, so a replaced engine is judged as itself within that.
func (c *Client) EngineAPIVersion(ctx context.Context) (string, error) {
	c.mu.Lock()
	api, at := c.api, c.apiAt
	c.mu.Unlock()
	if api != "" && time.Since(at) < apiVersionTTL {
		return api, nil
	}
	_, api, err := c.Version(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.api, c.apiAt = api, time.Now()
	c.mu.Unlock()
	return api, nil
}

const apiVersionTTL = 10 * time.Second

// Close releases the client's connections.
func (c *Client) Close() error { return c.c.Close() }

// Containers lists the containers on the daemon (running ones, or all).
func (c *Client) Containers(ctx context.Context, all bool) ([]container.Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.ContainerList(ctx, client.ContainerListOptions{All: all})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	return res.Items, nil
}

// DefaultCgroupns is the cgroup namespace mode the daemon gives containers
// that ask for none: "host" on cgroup v1 hosts, "private" on cgroup v2
// (unless dockerd runs with --default-cgroupns-mode).
func (c *Client) DefaultCgroupns(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return "", fmt.Errorf("daemon info: %w", err)
	}
	if res.Info.CgroupVersion == "2" {
		return "private", nil
	}
	return "host", nil
}

// defaultCgroupnsCached asks the daemon once it answers; until then no
// default is assumed (a joined container on "host" is then judged as asking
// for it, which denies rather than allows).
func (c *Client) defaultCgroupnsCached(ctx context.Context) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cgroupns == "" {
		if v, err := c.DefaultCgroupns(ctx); err == nil {
			c.cgroupns = v
		}
	}
	return c.cgroupns
}

// IDsWithPrefix returns the full ids of the containers, networks or
// services whose id starts with prefix: what the daemon falls back to for a
// reference that is neither an id nor a name (owner_only needs it for a
// reference that is a name now and may be a prefix by the time the handler
// runs). The daemon's id filters are substring (containers) or prefix
// matches; the answer is narrowed here to prefixes.
func (c *Client) IDsWithPrefix(ctx context.Context, kind, prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	f := make(client.Filters).Add("id", prefix)
	var ids []string
	switch kind {
	case "container":
		res, err := c.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return nil, fmt.Errorf("list containers with id prefix %s: %w", prefix, err)
		}
		for _, s := range res.Items {
			ids = append(ids, s.ID)
		}
	case "network":
		res, err := c.c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		if err != nil {
			return nil, fmt.Errorf("list networks with id prefix %s: %w", prefix, err)
		}
		for _, n := range res.Items {
			ids = append(ids, n.ID)
		}
	case "service":
		res, err := c.c.ServiceList(ctx, client.ServiceListOptions{Filters: f})
		if err != nil {
			return nil, fmt.Errorf("list services with id prefix %s: %w", prefix, err)
		}
		for _, s := range res.Items {
			ids = append(ids, s.ID)
		}
	default:
		return nil, fmt.Errorf("no id prefixes for %s", kind)
	}
	out := ids[:0]
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	return out, nil
}

// WatchEvents streams the daemon's events (GET /events) until ctx ends or
// the stream breaks, calling connected once it is open and on for each
// event with its type and action. It returns why the stream ended; the
// caller reconnects (lookupcache.Cache.Watch).
func (c *Client) WatchEvents(ctx context.Context, connected func(), on func(typ, action string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := c.c.Events(ctx, client.EventsListOptions{})
	// The client opens the stream before returning: a daemon that refused
	// it has already put the error on the channel.
	select {
	case err := <-res.Err:
		if err == nil {
			err = errors.New("the daemon closed the event stream")
		}
		return fmt.Errorf("daemon events: %w", err)
	default:
	}
	connected()
	for {
		select {
		case m, ok := <-res.Messages:
			if !ok {
				return errors.New("daemon events: the stream ended")
			}
			on(string(m.Type), string(m.Action))
		case err := <-res.Err:
			if err == nil {
				err = errors.New("the daemon closed the event stream")
			}
			return fmt.Errorf("daemon events: %w", err)
		}
	}
}
