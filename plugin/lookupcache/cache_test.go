package lookupcache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockward/dockward/plugin/input"
)

// counting is a Lookup whose answers change on demand and which counts the
// calls that reach it.
type counting struct {
	input.StaticLookup
	calls atomic.Int64
	user  atomic.Value // the image's USER it answers now
	fail  atomic.Bool
	// during, if set, runs inside a lookup (a change racing the fetch).
	during func()
}

func newCounting() *counting {
	l := &counting{}
	l.user.Store("1000")
	return l
}

func (l *counting) Image(_ context.Context, ref string) (input.ImageInfo, error) {
	l.calls.Add(1)
	if l.during != nil {
		l.during()
	}
	if l.fail.Load() {
		return input.ImageInfo{}, errors.New("daemon unreachable")
	}
	if ref == "absent" {
		return input.ImageInfo{}, input.ErrNotFound
	}
	return input.ImageInfo{ID: "sha256:" + ref, User: l.user.Load().(string)}, nil
}

func (l *counting) Container(_ context.Context, ref string) (input.ContainerInfo, error) {
	l.calls.Add(1)
	return input.ContainerInfo{ID: ref, Config: &container.Config{User: l.user.Load().(string)}}, nil
}

func TestCacheKeepsAnswersUntilAChange(t *testing.T) {
	ctx := context.Background()
	image := func(c *Cache) string { i, _ := c.Image(ctx, "web"); return i.User }
	ctr := func(c *Cache) string { i, _ := c.Container(ctx, "web"); return i.Config.User }
	written := func(endpoint string) func(*Cache) { return func(c *Cache) { c.Written(endpoint, false) } }
	event := func(typ, action string) func(*Cache) { return func(c *Cache) { c.Event(typ, action) } }
	cases := []struct {
		name      string
		lookup    func(*Cache) string
		change    func(*Cache)
		refetched bool
	}{
		{"image, nothing happened", image, func(*Cache) {}, false},
		{"image, docker stop", image, written("container.stop"), false},
		{"image, docker start", image, written("container.start"), false},
		{"image, exec create", image, written("container.exec"), false},
		{"image, docker rm", image, written("container.delete"), false},
		{"image, docker pull", image, written("image.create"), true},
		{"image, docker tag", image, written("image.tag"), true},
		{"image, docker rmi", image, written("image.delete"), true},
		{"image, docker commit", image, written("container.commit"), true},
		{"image, a write the plugin could not name", image, written(""), true},
		{"image, a start with a HostConfig body (API < 1.24)", image, func(c *Cache) { c.Written("container.start", true) }, true},
		{"image, service update", image, written("service.update"), true},
		{"image, plugin enable (a new volume driver)", image, written("plugin.enable"), true},
		{"image, event: pulled by a swarm task", image, event("image", "pull"), true},
		{"image, event: tag", image, event("image", "tag"), true},
		{"image, event: container destroyed", image, event("container", "destroy"), false},
		{"image, event of a type it does not know", image, event("newthing", "stop"), true},
		{"image, event: daemon reload", image, event("daemon", "reload"), true},
		{"container, docker stop", ctr, written("container.stop"), false},
		{"container, docker start", ctr, written("container.start"), false},
		{"container, docker tag", ctr, written("image.tag"), false},
		{"container, docker update", ctr, written("container.update"), true},
		{"container, docker rm", ctr, written("container.delete"), true},
		{"container, docker rename", ctr, written("container.rename"), true},
		{"container, docker create (a new name resolves)", ctr, written("container.create"), true},
		{"container, network connect", ctr, written("network.connect"), true},
		{"container, event: stop", ctr, event("container", "stop"), false},
		{"container, event: exec with its command", ctr, event("container", "exec_create: sh -c id"), false},
		{"container, event: health status", ctr, event("container", "health_status: healthy"), false},
		{"container, event: volume mount", ctr, event("volume", "mount"), false},
		{"container, event: destroyed by --rm", ctr, event("container", "destroy"), true},
		{"container, event: rename", ctr, event("container", "rename"), true},
		{"container, event: update", ctr, event("container", "update"), true},
		{"container, event: network disconnect", ctr, event("network", "disconnect"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newCounting()
			c := New(l, time.Minute)
			if got := tc.lookup(c); got != "1000" {
				t.Fatalf("first answer %q", got)
			}
			l.user.Store("root")
			tc.change(c)
			got := tc.lookup(c)
			if tc.refetched {
				if got != "root" || l.calls.Load() != 2 {
					t.Errorf("after the change: user %q after %d calls; want the daemon's new answer (root)", got, l.calls.Load())
				}
			} else if got != "1000" || l.calls.Load() != 1 {
				t.Errorf("after a change that changes no fact of this kind: user %q after %d calls; want the kept answer", got, l.calls.Load())
			}
		})
	}
}

func TestCacheNeverKeepsFailuresOrAbsence(t *testing.T) {
	ctx := context.Background()
	l := newCounting()
	c := New(l, time.Minute)
	for range 2 {
		if _, err := c.Image(ctx, "absent"); !errors.Is(err, input.ErrNotFound) {
			t.Fatalf("absent image: %v", err)
		}
	}
	l.fail.Store(true)
	for range 2 {
		if _, err := c.Image(ctx, "web"); err == nil {
			t.Fatal("a failed lookup answered")
		}
	}
	l.fail.Store(false)
	if got, err := c.Image(ctx, "web"); err != nil || got.User != "1000" {
		t.Fatalf("after the daemon came back: %+v %v", got, err)
	}
	if n := l.calls.Load(); n != 5 {
		t.Errorf("%d lookups reached the daemon; want 5 (nothing failed or absent kept)", n)
	}
}

func TestCacheExpires(t *testing.T) {
	ctx := context.Background()
	l := newCounting()
	c := New(l, 50*time.Millisecond)
	_, _ = c.Image(ctx, "web")
	l.user.Store("root")
	time.Sleep(120 * time.Millisecond)
	if got, _ := c.Image(ctx, "web"); got.User != "root" {
		t.Errorf("after the TTL: %q, want the daemon's new answer", got.User)
	}
}

// An answer fetched while a change was being made may predate it: it is
// returned to its caller (whose request raced the change, as it would
// without a cache) but not kept for the next one.
func TestCacheDropsAnAnswerThatRacedAChange(t *testing.T) {
	ctx := context.Background()
	l := newCounting()
	c := New(l, time.Minute)
	l.during = func() { c.Written("image.tag", false) }
	_, _ = c.Image(ctx, "web")
	l.during = nil
	l.user.Store("root")
	if got, _ := c.Image(ctx, "web"); got.User != "root" || l.calls.Load() != 2 {
		t.Errorf("answer %q after %d calls: the raced answer was kept", got.User, l.calls.Load())
	}
}

// While the event stream is down, the daemon may change anything unseen:
// nothing is served from the cache until it is back.
func TestCacheServesNothingWithoutItsEventStream(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := newCounting()
	c := New(l, time.Minute)
	connect := make(chan struct{})
	broken := make(chan struct{})
	events := make(chan [2]string)
	src := func(ctx context.Context, connected func(), on func(typ, action string)) error {
		select {
		case <-connect:
		case <-ctx.Done():
			return ctx.Err()
		}
		connected()
		for {
			select {
			case e := <-events:
				on(e[0], e[1])
			case <-broken:
				return errors.New("stream broke")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	done := c.Follow(ctx, src, nil)
	if c.live.Load() {
		t.Fatal("serving before the event stream connected")
	}

	_, _ = c.Image(ctx, "web")
	_, _ = c.Image(ctx, "web")
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("before the stream connected: %d daemon calls for 2 lookups; want 2", n)
	}
	connect <- struct{}{}
	waitFor(t, func() bool { return c.live.Load() })
	_, _ = c.Image(ctx, "web")
	_, _ = c.Image(ctx, "web")
	if n := l.calls.Load(); n != 3 {
		t.Fatalf("with the stream: %d daemon calls; want 3 (one kept)", n)
	}
	l.user.Store("root")
	flushes := c.Stats().Flushes
	events <- [2]string{"image", "tag"}
	waitFor(t, func() bool { return c.Stats().Flushes > flushes })
	if got, _ := c.Image(ctx, "web"); got.User != "root" {
		t.Fatalf("after an image tag event: %q", got.User)
	}
	broken <- struct{}{}
	waitFor(t, func() bool { return !c.live.Load() })
	before := l.calls.Load()
	_, _ = c.Image(ctx, "web")
	if l.calls.Load() != before+1 {
		t.Fatal("served from the cache while the event stream was down")
	}
	cancel()
	<-done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
