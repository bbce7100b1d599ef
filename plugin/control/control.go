// Package control is dockward serve's root-only control socket: the way
// `dockward own` reaches the ownership store, which the serving process
// holds (bbolt locks its file). It speaks HTTP/JSON on a unix socket that is
// 0600 root, and checks each caller's kernel credentials (SO_PEERCRED) too.
package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/owner"
)

// DefaultSocket is where dockward serve listens by default.
const DefaultSocket = "/run/dockward/control.sock"

// OwnRequest claims or reassigns one object (User set), or asks who owns it.
type OwnRequest struct {
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
	User string `json:"user,omitempty"`
}

// OwnResponse is the object as the daemon resolved it, with its owner
// before and after.
type OwnResponse struct {
	Kind     string `json:"kind"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Previous string `json:"previous"` // "" = nobody
	Owner    string `json:"owner"`
	Error    string `json:"error,omitempty"`
}

// Server answers the control socket.
type Server struct {
	Owners owner.Owners
	Lookup input.Lookup
	Log    *logrus.Logger
	// PeerUID returns the uid of the process on the other end; nil uses
	// SO_PEERCRED. Only uid 0 is answered.
	PeerUID func(net.Conn) (int, error)
}

type ctxKey struct{}

// Listen opens path 0600 (its directory 0700), replacing a stale socket
// but never one a live process serves.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket directory: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("control socket %s is already served by another process; stop it first", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale control socket: %w", err)
	}
	old := syscall.Umask(0o177) // never a moment at wider permissions
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("chmod control socket: %w", err)
	}
	return l, nil
}

// Serve answers on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/own", s.own)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxKey{}, c)
		},
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func peerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if cerr != nil {
		return -1, cerr
	}
	return int(cred.Uid), nil
}

func (s *Server) own(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, resp OwnResponse) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(resp)
	}
	fail := func(code int, format string, args ...any) {
		reply(code, OwnResponse{Error: fmt.Sprintf(format, args...)})
	}
	c, _ := r.Context().Value(ctxKey{}).(net.Conn)
	uidOf := s.PeerUID
	if uidOf == nil {
		uidOf = peerUID
	}
	if uid, err := uidOf(c); err != nil || uid != 0 {
		fail(http.StatusForbidden, "only root may use the control socket (caller uid %d: %v)", uid, err)
		return
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "POST a JSON {kind, ref, user}")
		return
	}
	var req OwnRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		fail(http.StatusBadRequest, "request body: %v", err)
		return
	}
	if !owner.ValidKind(req.Kind) {
		fail(http.StatusBadRequest, "unknown kind %q: expected container, service, volume or network", req.Kind)
		return
	}
	if req.Ref == "" {
		fail(http.StatusBadRequest, "no %s named", req.Kind)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	id, name, err := Resolve(ctx, s.Lookup, req.Kind, req.Ref)
	if errors.Is(err, input.ErrNotFound) {
		fail(http.StatusNotFound, "the daemon has no %s %q", req.Kind, req.Ref)
		return
	}
	if err != nil {
		fail(http.StatusBadGateway, "cannot resolve %s %q on the daemon: %v", req.Kind, req.Ref, err)
		return
	}
	rec, _, err := s.Owners.Lookup(req.Kind, id)
	if err != nil {
		fail(http.StatusInternalServerError, "%v", err)
		return
	}
	resp := OwnResponse{Kind: req.Kind, ID: id, Name: name, Previous: rec.Owner, Owner: rec.Owner}
	if req.User != "" {
		if _, err := s.Owners.Put(req.Kind, id, req.User, owner.Replace, time.Time{}); err != nil {
			fail(http.StatusInternalServerError, "%v", err)
			return
		}
		resp.Owner = req.User
		if s.Log != nil {
			s.Log.WithFields(logrus.Fields{"kind": req.Kind, "id": id, "name": name, "previous": rec.Owner, "owner": req.User}).
				Warn("ownership changed by dockward own")
		}
	}
	reply(http.StatusOK, resp)
}

// Resolve is the daemon's full id and name of a reference, resolved as the
// daemon resolves it (names, id prefixes; a volume is its name).
func Resolve(ctx context.Context, l input.Lookup, kind, ref string) (id, name string, err error) {
	switch kind {
	case owner.Container:
		c, err := l.Container(ctx, ref)
		return c.ID, c.Name, err
	case owner.Network:
		n, err := l.Network(ctx, ref)
		return n.ID, n.Name, err
	case owner.Service:
		s, err := l.Service(ctx, ref)
		return s.ID, s.Spec.Name, err
	case owner.Volume:
		_, _, err := l.Volume(ctx, ref)
		return ref, ref, err
	}
	return "", "", fmt.Errorf("unknown kind %q", kind)
}

// Own asks the serving dockward at socket (the client side).
func Own(ctx context.Context, socket string, req OwnRequest) (OwnResponse, error) {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}}
	b, err := json.Marshal(req)
	if err != nil {
		return OwnResponse{}, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://dockward/own", bytes.NewReader(b))
	if err != nil {
		return OwnResponse{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(hr)
	if err != nil {
		return OwnResponse{}, fmt.Errorf("cannot reach dockward serve's control socket %s (is dockward serve running, and are you root?): %w", socket, err)
	}
	defer res.Body.Close()
	var out OwnResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return OwnResponse{}, fmt.Errorf("control socket %s answered %s, not JSON: %w", socket, res.Status, err)
	}
	if out.Error != "" {
		return out, errors.New(out.Error)
	}
	if res.StatusCode != http.StatusOK {
		return out, fmt.Errorf("control socket %s answered %s", socket, res.Status)
	}
	return out, nil
}
