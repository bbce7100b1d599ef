// Package capture lets the real docker CLI build an API request without a
// daemon: it serves a short-lived socket that answers the CLI's handshake
// (/_ping, /version, /info) and captures the first request that would change
// state. dockward never re-implements docker's flag parsing; the CLI does it.
// For Compose (compose.go) it plays a whole daemon on which the project does
// not exist yet, and captures every request Compose sends to create it.
package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
)

// APIVersion is the API version the capture socket claims; the CLI uses
// the lower of this and its own.
const APIVersion = "1.51"

// maxBody mirrors dockerd: bodies of 1 MiB or more are not forwarded to
// authorization plugins.
const maxBody = 1 << 20

// Result is what the docker CLI sent, as dockerd would forward it to an
// authorization plugin, and what the CLI printed.
type Result struct {
	Request authorization.Request
	Output  string // the CLI's combined output (its error about the capture)
}

// ErrNoRequest means the command finished without sending a request that
// changes state (for instance `docker ps`, or a typo the CLI rejected).
var ErrNoRequest = errors.New("the docker command sent no request that changes state")

// Run runs argv (a docker CLI command line, e.g. docker run --rm busybox)
// against a capture socket and returns the first state-changing request.
func Run(ctx context.Context, argv []string, timeout time.Duration) (*Result, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command given (dockward check -- docker run IMAGE)")
	}
	dir, err := os.MkdirTemp("", "dockward-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	s := &server{captured: make(chan authorization.Request, 1)}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], withHost(argv[1:], "unix://"+sock)...)
	cmd.Env = env(os.Environ())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", argv[0], err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case req := <-s.captured:
		// The CLI is now printing our refusal; give it a moment, then stop it.
		select {
		case <-waited:
		case <-time.After(2 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
		return &Result{Request: req, Output: out.String()}, nil
	case <-waited:
		select {
		case req := <-s.captured:
			return &Result{Request: req, Output: out.String()}, nil
		default:
		}
		return nil, fmt.Errorf("%w; the CLI said:\n%s", ErrNoRequest, strings.TrimSpace(out.String()))
	case <-ctx.Done():
		return nil, fmt.Errorf("the docker command did not send a request within %s", timeout)
	}
}

// withHost points the CLI at the capture socket: global -H/--host/--context
// flags before the subcommand are dropped (the CLI refuses two hosts).
func withHost(args []string, host string) []string {
	out := []string{"-H", host}
	i := 0
	for i < len(args) {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			break // the subcommand: the rest is its own
		}
		switch {
		case a == "-H" || a == "--host" || a == "-c" || a == "--context":
			i += 2
			continue
		case strings.HasPrefix(a, "--host=") || strings.HasPrefix(a, "--context=") || strings.HasPrefix(a, "-H="):
			i++
			continue
		}
		out = append(out, a)
		i++
	}
	return append(out, args[i:]...)
}

func env(environ []string) []string {
	var out []string
	for _, kv := range environ {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH":
			continue
		}
		out = append(out, kv)
	}
	return out
}

type server struct {
	once     sync.Once
	captured chan authorization.Request
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", APIVersion)
	w.Header().Set("Ostype", "linux")
	w.Header().Set("Docker-Experimental", "false")
	p := stripVersion(r.URL.Path)
	switch {
	case p == "/_ping":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "OK")
		return
	case r.Method == http.MethodGet && p == "/version":
		writeJSON(w, http.StatusOK, map[string]any{"ApiVersion": APIVersion, "MinAPIVersion": "1.24",
			"Version": "dockward-check", "Os": "linux", "Arch": runtime.GOARCH})
		return
	case r.Method == http.MethodGet && p == "/info":
		writeJSON(w, http.StatusOK, map[string]any{"OSType": "linux", "Architecture": runtime.GOARCH,
			"ServerVersion": "dockward-check", "Swarm": map[string]any{"LocalNodeState": "active", "ControlAvailable": true}})
		return
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/containers/") && strings.HasSuffix(p, "/json"):
		// docker exec inspects the container first and refuses one that is
		// not running: say it runs. The plugin's own lookups (the
		// container's user) go to the real daemon, not here.
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/containers/"), "/json")
		writeJSON(w, http.StatusOK, map[string]any{"Id": id, "Name": "/" + id,
			"State": map[string]any{"Status": "running", "Running": true}, "Config": map[string]any{}, "HostConfig": map[string]any{}})
		return
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "dockward check serves no reads"})
		return
	}
	req := authorization.Request{RequestMethod: r.Method, RequestURI: r.RequestURI,
		RequestHeaders: map[string]string{}}
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		req.RequestHeaders["Content-Type"] = ct
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	// Forward the body exactly when dockerd would: a JSON media type and
	// under 1 MiB.
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" && len(body) < maxBody {
		req.RequestBody = body
	}
	s.once.Do(func() { s.captured <- req })
	writeJSON(w, http.StatusForbidden, map[string]string{"message": "dockward check: request captured, nothing was run"})
}

func stripVersion(p string) string {
	if strings.HasPrefix(p, "/v") {
		if i := strings.Index(p[1:], "/"); i > 0 {
			return p[i+1:]
		}
	}
	return p
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
