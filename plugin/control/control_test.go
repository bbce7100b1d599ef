package control

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/owner"
)

const id = "1111111111111111111111111111111111111111111111111111111111111111"

// serve starts a control server whose callers have uid.
func serve(t *testing.T, uid int) (string, *owner.Store) {
	t.Helper()
	dir := t.TempDir()
	s, err := owner.Open(filepath.Join(dir, "owners.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sock := filepath.Join(dir, "c.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	lookup := input.StaticLookup{Containers: map[string]container.CreateRequest{id: {}}, Volumes: map[string]map[string]string{"data": {}}}
	srv := &Server{Owners: s, Lookup: lookup, PeerUID: func(net.Conn) (int, error) { return uid, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go srv.Serve(ctx, l) //nolint:errcheck // ends with ctx
	return sock, s
}

func TestOwn(t *testing.T) {
	sock, s := serve(t, 0)
	steps := []struct {
		name        string
		req         OwnRequest
		owner, prev string
		err         string
	}{
		{"show nobody's", OwnRequest{Kind: "container", Ref: id}, "", "", ""},
		{"claim for bob", OwnRequest{Kind: "container", Ref: id, User: "bob"}, "bob", "", ""},
		{"reassign to alice", OwnRequest{Kind: "container", Ref: id, User: "alice"}, "alice", "bob", ""},
		{"volume by name", OwnRequest{Kind: "volume", Ref: "data", User: "bob"}, "bob", "", ""},
		{"missing object", OwnRequest{Kind: "container", Ref: "nope", User: "bob"}, "", "", "the daemon has no container \"nope\""},
		{"bad kind", OwnRequest{Kind: "image", Ref: "x", User: "bob"}, "", "", "unknown kind"},
	}
	for _, st := range steps {
		resp, err := Own(t.Context(), sock, st.req)
		if st.err != "" {
			if err == nil || !strings.Contains(err.Error(), st.err) {
				t.Errorf("%s: err %v, want %q", st.name, err, st.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if resp.Owner != st.owner || resp.Previous != st.prev {
			t.Errorf("%s: %+v, want owner %q previous %q", st.name, resp, st.owner, st.prev)
		}
	}
	if r, _, _ := s.Lookup("container", id); r.Owner != "alice" {
		t.Errorf("store has %q", r.Owner)
	}
}

func TestOwnRefusesNonRoot(t *testing.T) {
	sock, s := serve(t, 1000)
	_, err := Own(t.Context(), sock, OwnRequest{Kind: "container", Ref: id, User: "bob"})
	if err == nil || !strings.Contains(err.Error(), "only root") {
		t.Errorf("uid 1000: %v", err)
	}
	if r, _, _ := s.Lookup("container", id); r.Owner != "" {
		t.Errorf("a non-root caller changed the owner to %q", r.Owner)
	}
}

func TestOwnWithoutServer(t *testing.T) {
	_, err := Own(t.Context(), filepath.Join(t.TempDir(), "none.sock"), OwnRequest{Kind: "container", Ref: id})
	if err == nil || !strings.Contains(err.Error(), "is dockward serve running") {
		t.Errorf("err = %v", err)
	}
	var e *net.OpError
	_ = errors.As(err, &e)
}

// TestPeerUID: the kernel's credentials of the caller, not anything it says.
func TestPeerUID(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "p.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- -2
			return
		}
		defer c.Close()
		uid, err := peerUID(c)
		if err != nil {
			uid = -3
		}
		got <- uid
	}()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if uid := <-got; uid != os.Getuid() {
		t.Errorf("peer uid %d, want %d", uid, os.Getuid())
	}
}
