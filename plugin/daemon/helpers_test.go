package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

// leftover is the inspect of a helper as readPasswd creates it, never started.
func leftover(id string) container.InspectResponse {
	spec := helperSpec("sha256:img")
	return container.InspectResponse{
		ID: id, Name: "/" + spec.Name, Config: spec.Config, HostConfig: spec.HostConfig,
		State: &container.State{Status: container.StateCreated, StartedAt: "0001-01-01T00:00:00Z"},
	}
}

func TestIsLeftoverHelper(t *testing.T) {
	t.Parallel()
	edit := func(f func(c *container.InspectResponse)) container.InspectResponse {
		c := leftover("x")
		cfg, hc, st := *c.Config, *c.HostConfig, *c.State
		c.Config, c.HostConfig, c.State = &cfg, &hc, &st
		f(&c)
		return c
	}
	tests := []struct {
		name string
		ct   container.InspectResponse
		want bool
	}{
		{"a helper left by a crash", leftover("x"), true},
		{"started once (exited now)", edit(func(c *container.InspectResponse) {
			c.State.Status, c.State.StartedAt = container.StateExited, "2026-12-01T10:00:00Z"
		}), false},
		{"running", edit(func(c *container.InspectResponse) { c.State.Status, c.State.Running = container.StateRunning, true }), false},
		{"created, but started before (restarted state)", edit(func(c *container.InspectResponse) { c.State.StartedAt = "2026-12-01T10:00:00Z" }), false},
		{"the label without the name", edit(func(c *container.InspectResponse) { c.Name = "/web" }), false},
		{"another label value", edit(func(c *container.InspectResponse) { c.Config.Labels = map[string]string{HelperLabel: "x"} }), false},
		{"no label", edit(func(c *container.InspectResponse) { c.Config.Labels = nil }), false},
		{"another command", edit(func(c *container.InspectResponse) { c.Config.Cmd = []string{"sh"} }), false},
		{"another user", edit(func(c *container.InspectResponse) { c.Config.User = "0" }), false},
		{"on a network", edit(func(c *container.InspectResponse) { c.HostConfig.NetworkMode = "bridge" }), false},
		{"no state", edit(func(c *container.InspectResponse) { c.State = nil }), false},
	}
	for _, tt := range tests {
		if got := isLeftoverHelper(tt.ct); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fakeEngine answers the few Engine API calls the sweep and readPasswd make.
type fakeEngine struct {
	mu          sync.Mutex
	containers  map[string]container.InspectResponse
	removed     []string // "id force=..."
	listQuery   string
	delay       time.Duration // of every delete
	copyDelay   time.Duration // of every archive read
	removedName string
}

var pathID = regexp.MustCompile(`^/v[0-9.]+/containers/([^/]+)(/json)?$`)

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Api-Version", "1.41")
	switch {
	case strings.HasSuffix(r.URL.Path, "/_ping"):
		_, _ = w.Write([]byte("OK"))
	case strings.HasSuffix(r.URL.Path, "/containers/json"):
		f.listQuery = r.URL.RawQuery
		var list []container.Summary
		for id, c := range f.containers {
			list = append(list, container.Summary{ID: id, Names: []string{c.Name}, State: c.State.Status, Labels: c.Config.Labels})
		}
		_ = json.NewEncoder(w).Encode(list)
	case strings.HasSuffix(r.URL.Path, "/containers/create"):
		var body struct{ Labels map[string]string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		id := fmt.Sprintf("helper-%d", len(f.containers)+len(f.removed))
		f.containers[id] = container.InspectResponse{ID: id, Name: "/" + r.URL.Query().Get("name"),
			Config: &container.Config{Labels: body.Labels}, State: &container.State{Status: container.StateCreated}}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"Id": id})
	case strings.HasSuffix(r.URL.Path, "/archive"):
		f.mu.Unlock()
		select { // a daemon slower than the decision's budget
		case <-time.After(f.copyDelay):
		case <-r.Context().Done():
		}
		f.mu.Lock()
		http.Error(w, `{"message":"no such file"}`, http.StatusNotFound)
	case pathID.MatchString(r.URL.Path):
		id := pathID.FindStringSubmatch(r.URL.Path)[1]
		c, ok := f.containers[id]
		if !ok {
			http.Error(w, `{"message":"no such container"}`, http.StatusNotFound)
			return
		}
		if r.Method == http.MethodDelete {
			f.mu.Unlock()
			time.Sleep(f.delay)
			f.mu.Lock()
			if c.State.Running && r.URL.Query().Get("force") != "1" {
				http.Error(w, `{"message":"cannot remove a running container"}`, http.StatusConflict)
				return
			}
			f.removedName = strings.TrimPrefix(c.Name, "/")
			delete(f.containers, id)
			f.removed = append(f.removed, id+" force="+r.URL.Query().Get("force"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_ = json.NewEncoder(w).Encode(c)
	default:
		http.Error(w, `{"message":"not here"}`, http.StatusNotFound)
	}
}

func newFake(t *testing.T, f *fakeEngine) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New("tcp://"+strings.TrimPrefix(srv.URL, "http://"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The sweep at start removes what a crash left (never forced), and leaves
// alone every container that only wears the helper's marks.
func TestSweepHelpers(t *testing.T) {
	t.Parallel()
	faked := leftover("running-fake")
	faked.State = &container.State{Status: container.StateRunning, Running: true, StartedAt: "2026-12-01T10:00:00Z"}
	user := leftover("user-web")
	user.Name = "/web"
	f := &fakeEngine{containers: map[string]container.InspectResponse{
		"left-1": leftover("left-1"), "left-2": leftover("left-2"), "running-fake": faked, "user-web": user,
	}}
	c := newFake(t, f)
	removed, err := c.SweepHelpers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || !strings.HasPrefix(removed[0], HelperNamePrefix) {
		t.Errorf("removed %v, want the two helpers", removed)
	}
	slices.Sort(f.removed)
	if !slices.Equal(f.removed, []string{"left-1 force=", "left-2 force="}) {
		t.Errorf("deletes %v, want left-1 and left-2, unforced", f.removed)
	}
	if !strings.Contains(f.listQuery, "all=1") || !strings.Contains(f.listQuery, HelperLabel) {
		t.Errorf("list query %q: want all containers with the helper label", f.listQuery)
	}
}

// Out of budget, the removal does not hold the decision: it returns at the
// deadline and the helper is removed in the background.
func TestRemoveHelperOutOfBudget(t *testing.T) {
	t.Parallel()
	f := &fakeEngine{containers: map[string]container.InspectResponse{"h": leftover("h")}, delay: 300 * time.Millisecond}
	c := newFake(t, f)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	c.removeHelper(ctx, "h")
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("removeHelper held the decision %s past its 50ms deadline", d)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.removed)
		f.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper was never removed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The whole passwd read, helper removal included, ends at the decision's
// deadline (the ctx the plugin passes carries eval_timeout), not at three
// lookup timeouts plus one; the helper still goes.
func TestReadPasswdFitsTheDeadline(t *testing.T) {
	t.Parallel()
	// A daemon slow to copy and to remove: the old removal, synchronous
	// with a fresh lookup timeout, held the answer a second past the deadline.
	f := &fakeEngine{containers: map[string]container.InspectResponse{}, copyDelay: 5 * time.Second, delay: 1500 * time.Millisecond}
	c := newFake(t, f) // lookup timeout 1s: 3 of them would be 3s
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.readPasswd(ctx, "sha256:img")
	if took := time.Since(start); err == nil || took > 600*time.Millisecond {
		t.Fatalf("readPasswd = %v after %s, want an error at the 200ms deadline", err, took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		left := len(f.containers)
		f.mu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the passwd helper was not removed: %v", f.containers)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(f.removedName, HelperNamePrefix) {
		t.Errorf("helper name %q lacks %s", f.removedName, HelperNamePrefix)
	}
}
