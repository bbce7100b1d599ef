// Package lookupcache keeps the daemon's answers to the lookups a decision
// makes (a container's configuration, an image's user, a volume's driver)
// for a short time, so a `docker stop` or a second `docker run` of the same
// image does not pay an inspect through dockerd (which itself passes through
// the plugin) on every call.
//
// It never serves an answer the daemon's current state contradicts for
// longer than it can help: every answer is dropped when
//   - a write that can change it has run (Written, told by the plugin at
//     AuthZRes, which dockerd sends before the client has its answer): a
//     container create drops the container answers, a tag the image
//     answers, a write the plugin cannot name every answer;
//   - the daemon reports an event that can change it (Follow: dockerd's own
//     event stream, which also carries what no API call of ours announces,
//     such as a swarm task's image pull or a container removed by --rm);
//     while the stream is down nothing is served from the cache;
//   - it is older than the TTL, whatever happened.
//
// Failures and "not found" are never kept: an object that appears is seen at
// once, and a failed lookup is retried by the next request.
package lookupcache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/dockward/dockward/plugin/input"
)

// DefaultTTL bounds how long an answer is kept even when no write or event
// says it changed.
const DefaultTTL = 2 * time.Second

// maxEntries bounds the memory the cache takes (each entry is one object's
// inspect, a few KiB at most).
const maxEntries = 4096

// kind is what a kept answer is about; a change drops the answers of the
// kinds it can affect.
type kind uint8

const (
	kImage kind = iota
	kPasswd
	kContainer
	kVolume
	kNetwork
	kService
	kExec
	kTask
	nKinds
)

// mask is a set of kinds.
type mask uint16

func kinds(ks ...kind) mask {
	var m mask
	for _, k := range ks {
		m |= 1 << k
	}
	return m
}

const all = mask(1<<nKinds - 1)

// Cache is an input.Lookup (and input.PrefixLookup, when the one it wraps
// is) that remembers answers. The zero value is not usable: call New.
type Cache struct {
	inner input.Lookup
	lru   *expirable.LRU[string, entry]

	mu sync.Mutex
	// gen counts each kind's invalidations: an answer fetched before one
	// is neither served nor stored after it (it may predate the change).
	gen [nKinds]uint64
	// live is false while the cache must not serve: Watch is running and
	// its event stream is not connected.
	live atomic.Bool

	hits, misses, flushes atomic.Uint64
}

type entry struct {
	gen uint64
	val any
}

// New wraps inner; answers are kept at most ttl (DefaultTTL when 0).
func New(inner input.Lookup, ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	c := &Cache{inner: inner, lru: expirable.NewLRU[string, entry](maxEntries, nil, ttl)}
	c.live.Store(true)
	return c
}

// Stats are the cache's counters since it started, and whether it serves
// (Live: false while its event stream is down).
type Stats struct {
	Hits, Misses, Flushes uint64
	Live                  bool
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Flushes: c.flushes.Load(), Live: c.live.Load()}
}

// Invalidate drops every answer.
func (c *Cache) Invalidate() { c.invalidate(all) }

func (c *Cache) invalidate(m mask) {
	if m == 0 {
		return
	}
	c.mu.Lock()
	for k := kind(0); k < nKinds; k++ {
		if m&(1<<k) != 0 {
			c.gen[k]++
		}
	}
	if m == all {
		c.lru.Purge()
	}
	c.mu.Unlock()
	c.flushes.Add(1)
}

// Written is told of every write that has run, by endpoint (route.Endpoint
// names) and whether it carried a body. It drops the answers of the kinds the write can change; a
// write the plugin cannot name drops everything.
func (c *Cache) Written(endpoint string, body bool) {
	m, ok := writes[endpoint]
	if !ok {
		m = all
	}
	if endpoint == "container.start" && body {
		// Before API 1.24 a start could carry a HostConfig and change
		// the container's configuration.
		m = all
	}
	c.invalidate(m)
}

// writes says, for each write, the kinds of answer it can change. A write
// not listed changes everything. Image users (passwd) are kept by image id,
// whose content never changes, so no write drops them but those that can
// replace the store itself.
var writes = map[string]mask{
	// Nothing a lookup returns: the container's configuration, image,
	// name and configured networks stay as they were. A start attaches
	// the configured networks, which a network event would report if it
	// changed what a name resolves to.
	"container.stop":    0,
	"container.kill":    0,
	"container.pause":   0,
	"container.unpause": 0,
	"container.wait":    0,
	"container.resize":  0,
	"container.attach":  0,
	"container.start":   0,
	"container.restart": 0,
	"container.exec":    0, // a new exec instance; unknown exec ids are never kept
	"exec.start":        0,
	"exec.resize":       0,
	"system.auth":       0,
	// A new name (and id prefix) resolves; a named volume may be created
	// (it was absent, so not kept, but be plain about it).
	"container.create": kinds(kContainer, kVolume),
	"container.delete": kinds(kContainer, kVolume, kExec), // rm -v removes its anonymous volumes
	"container.prune":  kinds(kContainer, kVolume, kExec),
	"container.rename": kinds(kContainer),
	"container.update": kinds(kContainer),
	// Files copied into a container are not its image's /etc/passwd.
	"container.archive_put": kinds(kContainer),
	"container.commit":      kinds(kImage),
	"image.create":          kinds(kImage),
	"image.delete":          kinds(kImage),
	"image.load":            kinds(kImage),
	"image.tag":             kinds(kImage),
	"image.prune":           kinds(kImage),
	"image.push":            0,
	"volume.create":         kinds(kVolume),
	"volume.delete":         kinds(kVolume),
	"volume.prune":          kinds(kVolume),
	"volume.update":         kinds(kVolume),
	"network.create":        kinds(kNetwork, kContainer),
	"network.delete":        kinds(kNetwork, kContainer),
	"network.prune":         kinds(kNetwork, kContainer),
	"network.connect":       kinds(kNetwork, kContainer),
	"network.disconnect":    kinds(kNetwork, kContainer),
	"service.create":        kinds(kService, kTask, kNetwork, kContainer, kImage),
	"service.update":        kinds(kService, kTask, kNetwork, kContainer, kImage),
	"service.delete":        kinds(kService, kTask, kNetwork, kContainer),
}

// Event tells the cache of one daemon event (type and action as dockerd's
// /events reports them): it drops the answers of the kinds the change can
// affect. An event it does not know drops everything.
func (c *Cache) Event(typ, action string) {
	c.invalidate(eventKinds(typ, action))
}

// eventKinds: what each event can change. Actions may carry details after
// a colon ("exec_create: sh -c …", "health_status: healthy").
func eventKinds(typ, action string) mask {
	if i := strings.IndexByte(action, ':'); i >= 0 {
		action = action[:i]
	}
	switch typ {
	case "container":
		switch action {
		case "attach", "detach", "die", "kill", "oom", "pause", "unpause", "resize", "stop", "top", "start", "restart",
			"exec_create", "exec_start", "exec_die", "exec_detach", "health_status", "archive-path", "export", "copy":
			return 0
		case "create", "rename", "update":
			return kinds(kContainer)
		case "destroy":
			// Also a container removed by the daemon itself (--rm).
			return kinds(kContainer, kVolume, kExec)
		case "commit":
			return kinds(kImage)
		}
	case "image":
		switch action {
		case "save", "push":
			return 0
		}
		// pull (a swarm task's too), tag, untag, delete, import, load.
		return kinds(kImage)
	case "volume":
		switch action {
		case "mount", "unmount":
			return 0
		}
		return kinds(kVolume)
	case "network":
		// connect/disconnect change a container's networks.
		return kinds(kNetwork, kContainer)
	}
	return all
}

// EventSource streams the daemon's events until ctx ends or the stream
// breaks: connected is called once the stream is open, then on for each
// event. It returns why the stream ended.
type EventSource func(ctx context.Context, connected func(), on func(typ, action string)) error

// Follow follows the daemon's events in the background until ctx ends,
// reconnecting after a break, and returns a channel closed when it has
// stopped. From the call on, while the stream is not connected (before the
// first connection, and after every break until the next), the cache
// serves nothing, so no change the daemon made meanwhile can be missed.
// report, if set, is told of each connection (nil) and each break.
func (c *Cache) Follow(ctx context.Context, src EventSource, report func(connected bool, err error)) <-chan struct{} {
	c.live.Store(false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := src(ctx, func() {
				// Anything may have changed while the stream was down.
				c.Invalidate()
				c.live.Store(true)
				backoff = 100 * time.Millisecond
				if report != nil {
					report(true, nil)
				}
			}, c.Event)
			c.live.Store(false)
			c.Invalidate()
			if ctx.Err() != nil {
				return
			}
			if report != nil {
				report(false, err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff < 5*time.Second {
				backoff *= 2
			}
		}
	}()
	return done
}

// get returns the kept answer for key, or fetches it. Only answers without
// an error are kept, and only when no invalidation of their kind happened
// while fetching.
func get[T any](c *Cache, k kind, key string, fetch func() (T, error)) (T, error) {
	if !c.live.Load() {
		return fetch()
	}
	key = string(rune('a'+k)) + key
	c.mu.Lock()
	gen := c.gen[k]
	e, ok := c.lru.Get(key)
	c.mu.Unlock()
	if ok && e.gen == gen {
		c.hits.Add(1)
		return e.val.(T), nil
	}
	c.misses.Add(1)
	v, err := fetch()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen[k] == gen && c.live.Load() {
		c.lru.Add(key, entry{gen: gen, val: v})
	}
	c.mu.Unlock()
	return v, nil
}

var _ input.Lookup = (*Cache)(nil)

// Image implements input.Lookup.
func (c *Cache) Image(ctx context.Context, ref string) (input.ImageInfo, error) {
	return get(c, kImage, ref, func() (input.ImageInfo, error) { return c.inner.Image(ctx, ref) })
}

// Container implements input.Lookup.
func (c *Cache) Container(ctx context.Context, ref string) (input.ContainerInfo, error) {
	return get(c, kContainer, ref, func() (input.ContainerInfo, error) { return c.inner.Container(ctx, ref) })
}

type volume struct {
	driver string
	opts   map[string]string
}

// Volume implements input.Lookup.
func (c *Cache) Volume(ctx context.Context, name string) (string, map[string]string, error) {
	v, err := get(c, kVolume, name, func() (volume, error) {
		d, o, err := c.inner.Volume(ctx, name)
		return volume{d, o}, err
	})
	return v.driver, v.opts, err
}

// Network implements input.Lookup.
func (c *Cache) Network(ctx context.Context, ref string) (input.NetworkInfo, error) {
	return get(c, kNetwork, ref, func() (input.NetworkInfo, error) { return c.inner.Network(ctx, ref) })
}

// Service implements input.Lookup.
func (c *Cache) Service(ctx context.Context, ref string) (input.ServiceInfo, error) {
	return get(c, kService, ref, func() (input.ServiceInfo, error) { return c.inner.Service(ctx, ref) })
}

// ImageUserID implements input.Lookup.
func (c *Cache) ImageUserID(ctx context.Context, imageID, name string) (int, error) {
	return get(c, kPasswd, imageID+"\x00"+name, func() (int, error) { return c.inner.ImageUserID(ctx, imageID, name) })
}

// EngineAPIVersion implements input.Lookup (the wrapped lookup keeps it
// itself).
func (c *Cache) EngineAPIVersion(ctx context.Context) (string, error) {
	return c.inner.EngineAPIVersion(ctx)
}

// Exec implements input.Lookup.
func (c *Cache) Exec(ctx context.Context, id string) (string, error) {
	return get(c, kExec, id, func() (string, error) { return c.inner.Exec(ctx, id) })
}

// Task implements input.Lookup.
func (c *Cache) Task(ctx context.Context, id string) (string, error) {
	return get(c, kTask, id, func() (string, error) { return c.inner.Task(ctx, id) })
}

var errNoPrefix = errors.New("the lookup cannot list id prefixes")

// IDsWithPrefix implements input.PrefixLookup when the wrapped lookup does.
// Its answers are never kept: a new object can start with any prefix at
// any time.
func (c *Cache) IDsWithPrefix(ctx context.Context, kind, prefix string) ([]string, error) {
	pl, ok := c.inner.(input.PrefixLookup)
	if !ok {
		return nil, errNoPrefix
	}
	return pl.IDsWithPrefix(ctx, kind, prefix)
}
