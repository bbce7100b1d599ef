package capture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/go-plugins-helpers/authorization"
)

// ComposeOptions say how to run Compose against the capture daemon.
type ComposeOptions struct {
	// Command is the Compose client: ["docker", "compose"] (the CLI
	// plugin) or ["docker-compose"] (the standalone v2 binary).
	Command []string
	// Args are Compose's own flags, given before the subcommand: -f,
	// --profile, --env-file, --project-directory, -p.
	Args []string
	// Upstream, when set, is a daemon ("unix:///var/run/docker.sock") that
	// answers the reads Compose makes about what already exists: images,
	// and networks and volumes the project did not create here (external
	// ones). Only GET requests ever reach it. Without it (a CI runner with
	// no daemon) nothing exists: Compose pulls every image (each pull a
	// request the policy judges) and finds no external network or volume.
	Upstream string
	// APIVersion the capture daemon claims ("" is APIVersion): Compose
	// shapes its requests by it (below 1.44 it connects every network but
	// the first after the create), as it would for the daemon it targets.
	APIVersion string
	Timeout    time.Duration
}

// ComposeResult is what Compose sent to bring the project up.
type ComposeResult struct {
	// Config is `compose config --format json`: the project as Compose's
	// own loader resolved it (files merged, profiles, .env, interpolation).
	// It holds environment values: never print it.
	Config []byte
	// Requests are every state-changing request Compose made, in order, as
	// dockerd would forward them to an authorization plugin.
	Requests []authorization.Request
	// Created are the containers the capture daemon answered a create with
	// (the id Compose then uses: network_mode service:x joins it by id).
	Created []Created
	// Output is what Compose printed while creating (its progress and any
	// error). It can name files and services, not environment values.
	Output string
}

// Created is a container Compose created on the capture daemon.
type Created struct{ ID, Name string }

// ErrComposeMissing means no Compose v2 client could be run.
var ErrComposeMissing = errors.New("docker compose (Compose v2) is not installed")

// Compose runs `compose config` and `compose create` against a capture
// daemon that plays a Docker daemon on which the project does not exist
// yet: every create succeeds and is recorded, so every service's
// containers are asked for exactly as Compose would ask the real daemon.
// Nothing runs and nothing reaches a daemon but Upstream's reads.
func Compose(ctx context.Context, o ComposeOptions) (*ComposeResult, error) {
	if len(o.Command) == 0 {
		o.Command = []string{"docker", "compose"}
	}
	if _, err := exec.LookPath(o.Command[0]); err != nil {
		return nil, fmt.Errorf("%w (%s: %v); install the Compose plugin (docker-compose-plugin, or go install github.com/docker/compose/v2/cmd as ~/.docker/cli-plugins/docker-compose)", ErrComposeMissing, o.Command[0], err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.APIVersion == "" {
		o.APIVersion = APIVersion
	}
	dir, err := os.MkdirTemp("", "dockward-compose-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	fd, err := newFakeDaemon(o.APIVersion, o.Upstream)
	if err != nil {
		l.Close()
		return nil, err
	}
	srv := &http.Server{Handler: fd, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	run := func(sub ...string) ([]byte, []byte, error) {
		argv := append(append(append([]string{}, o.Command[1:]...), o.Args...), sub...)
		cmd := exec.CommandContext(ctx, o.Command[0], argv...)
		cmd.Env = composeEnv(os.Environ(), "unix://"+sock)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr, cmd.Stdin = &stdout, &stderr, nil
		err := cmd.Run()
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("compose did not finish within %s", o.Timeout)
		}
		return stdout.Bytes(), stderr.Bytes(), err
	}
	cfg, stderr, err := run("config", "--format", "json")
	if err != nil {
		// Compose's own error (a bad file, an unknown profile); its config
		// output is not shown, only what it says on stderr.
		return nil, fmt.Errorf("compose config: %v: %s", err, strings.TrimSpace(string(stderr)))
	}
	out, stderr, err := run("create", "--no-build", "--yes")
	res := &ComposeResult{Config: cfg, Requests: fd.writes(), Created: fd.created(), Output: strings.TrimSpace(string(out) + string(stderr))}
	if err != nil {
		return res, fmt.Errorf("compose create: %v: %s", err, res.Output)
	}
	return res, nil
}

// composeEnv points Compose at the capture daemon and away from any other:
// contexts and TLS settings go, and Compose neither builds with Bake nor
// asks a terminal anything.
func composeEnv(environ []string, host string) []string {
	out := []string{"DOCKER_HOST=" + host, "COMPOSE_BAKE=false", "COMPOSE_MENU=false", "COMPOSE_ANSI=never",
		"COMPOSE_PROGRESS=plain", "COMPOSE_STATUS_STDOUT=false"}
	for _, kv := range env(environ) {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "COMPOSE_BAKE", "COMPOSE_MENU", "COMPOSE_ANSI", "COMPOSE_PROGRESS", "COMPOSE_STATUS_STDOUT":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// fakeDaemon answers Compose like a daemon on which nothing of the project
// exists yet, and remembers what Compose creates so that its follow-up
// reads (inspect the new container, list the project's containers, the
// network it just made) find it.
type fakeDaemon struct {
	apiVersion string
	upstream   *httputil.ReverseProxy // nil: no daemon to ask

	mu         sync.Mutex
	requests   []authorization.Request
	containers []*fakeContainer
	networks   map[string]map[string]any // by name and by id
	volumes    map[string]map[string]any
	pulled     map[string]bool
	n          int
}

type fakeContainer struct {
	id, name string
	body     map[string]any
}

func newFakeDaemon(apiVersion, upstream string) (*fakeDaemon, error) {
	fd := &fakeDaemon{apiVersion: apiVersion, networks: map[string]map[string]any{},
		volumes: map[string]map[string]any{}, pulled: map[string]bool{}}
	if upstream == "" {
		return fd, nil
	}
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme != "unix" {
		// Only a local socket: a TCP daemon would need its TLS settings,
		// which the check has no business reading. Without it every image
		// exists and no external network or volume does.
		return fd, nil
	}
	path := u.Path
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	fd.upstream = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
			r.Out.Host = "docker"
		},
		Transport: tr,
		// An unreachable daemon answers as if it had nothing (ask,
		// proxyOr).
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return fd, nil
}

func (fd *fakeDaemon) writes() []authorization.Request {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return append([]authorization.Request{}, fd.requests...)
}

func (fd *fakeDaemon) created() []Created {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	var out []Created
	for _, c := range fd.containers {
		out = append(out, Created{ID: c.id, Name: c.name})
	}
	return out
}

func (fd *fakeDaemon) newID(seed string) string {
	fd.n++
	sum := sha256.Sum256([]byte(fmt.Sprintf("dockward-check-%d-%s", fd.n, seed)))
	return hex.EncodeToString(sum[:])
}

func (fd *fakeDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", fd.apiVersion)
	w.Header().Set("Ostype", "linux")
	w.Header().Set("Docker-Experimental", "false")
	p := stripVersion(r.URL.Path)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		fd.read(w, r, p)
		return
	}
	fd.write(w, r, p)
}

func (fd *fakeDaemon) read(w http.ResponseWriter, r *http.Request, p string) {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	switch {
	case p == "/_ping":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "OK")
	case p == "/version":
		writeJSON(w, http.StatusOK, map[string]any{"ApiVersion": fd.apiVersion, "MinAPIVersion": "1.24",
			"Version": "dockward-check", "Os": "linux", "Arch": runtime.GOARCH})
	case p == "/info":
		writeJSON(w, http.StatusOK, map[string]any{"OSType": "linux", "Architecture": runtime.GOARCH,
			"ServerVersion": "dockward-check", "Swarm": map[string]any{"LocalNodeState": "inactive"}})
	case p == "/containers/json":
		writeJSON(w, http.StatusOK, fd.listContainers(r.URL.Query().Get("filters")))
	case strings.HasPrefix(p, "/containers/") && strings.HasSuffix(p, "/json"):
		ref := strings.TrimSuffix(strings.TrimPrefix(p, "/containers/"), "/json")
		if c := fd.container(ref); c != nil {
			writeJSON(w, http.StatusOK, c.inspect())
			return
		}
		fd.notFound(w, r)
	case p == "/networks":
		// Compose lists by name filter to find the project's network; one
		// it made here is found, else the daemon's answer stands.
		if n := fd.matchFilter(fd.networks, r.URL.Query().Get("filters")); len(n) > 0 {
			writeJSON(w, http.StatusOK, n)
			return
		}
		fd.ask(w, r, http.StatusOK, []any{})
	case strings.HasPrefix(p, "/networks/"):
		if n, ok := fd.networks[strings.TrimPrefix(p, "/networks/")]; ok {
			writeJSON(w, http.StatusOK, n)
			return
		}
		fd.ask(w, r, http.StatusNotFound, nil)
	case p == "/volumes":
		fd.ask(w, r, http.StatusOK, map[string]any{"Volumes": []any{}, "Warnings": []any{}})
	case strings.HasPrefix(p, "/volumes/"):
		if v, ok := fd.volumes[strings.TrimPrefix(p, "/volumes/")]; ok {
			writeJSON(w, http.StatusOK, v)
			return
		}
		fd.ask(w, r, http.StatusNotFound, nil)
	case strings.HasPrefix(p, "/images/") && strings.HasSuffix(p, "/json"):
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/images/"), "/json")
		if fd.pulled[imageKey(name)] {
			writeJSON(w, http.StatusOK, fd.image(name))
			return
		}
		// An image the daemon lacks is missing here too: Compose pulls it
		// (a request the policy judges: image_pull_trusted) or builds it.
		fd.ask(w, r, http.StatusNotFound, nil)
	case p == "/images/json":
		fd.ask(w, r, http.StatusOK, []any{})
	default:
		fd.notFound(w, r)
	}
}

// ask forwards a read to the upstream daemon, or, without one or when it
// does not answer, answers dflt (nil: 404).
func (fd *fakeDaemon) ask(w http.ResponseWriter, r *http.Request, code int, dflt any) {
	answer := func(w http.ResponseWriter) {
		if dflt == nil {
			fd.notFound(w, r)
			return
		}
		writeJSON(w, code, dflt)
	}
	if fd.upstream == nil {
		answer(w)
		return
	}
	fd.forward(w, r, answer, false)
}

// proxyOr forwards to the upstream daemon; its 404, or no answer, becomes
// fallback's answer.
func (fd *fakeDaemon) proxyOr(w http.ResponseWriter, r *http.Request, fallback func(http.ResponseWriter)) {
	fd.forward(w, r, fallback, true)
}

func (fd *fakeDaemon) forward(w http.ResponseWriter, r *http.Request, fallback func(http.ResponseWriter), onNotFound bool) {
	rec := &recorder{header: http.Header{}}
	fd.upstream.ServeHTTP(rec, r)
	if rec.code == http.StatusBadGateway || rec.code == 0 || (onNotFound && rec.code == http.StatusNotFound) {
		fallback(w)
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.code)
	_, _ = w.Write(rec.body.Bytes())
}

type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}

func (fd *fakeDaemon) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "No such object: " + r.URL.Path})
}

// imageKey normalizes an image reference as the daemon does (alpine is
// docker.io/library/alpine:latest), so that the image Compose pulled is the
// one it inspects next, however each spells it.
func imageKey(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.TagNameOnly(n).String()
}

func (fd *fakeDaemon) image(name string) map[string]any {
	sum := sha256.Sum256([]byte("dockward-check-image " + name))
	return map[string]any{"Id": "sha256:" + hex.EncodeToString(sum[:]), "RepoTags": []string{name},
		"Os": "linux", "Architecture": runtime.GOARCH, "Config": map[string]any{}}
}

// write records a state-changing request exactly as dockerd would forward
// it to a plugin, and answers as a daemon that did it.
func (fd *fakeDaemon) write(w http.ResponseWriter, r *http.Request, p string) {
	req := authorization.Request{RequestMethod: r.Method, RequestURI: r.RequestURI, RequestHeaders: map[string]string{}}
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		req.RequestHeaders["Content-Type"] = ct
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" && len(body) < maxBody {
		req.RequestBody = body
	}
	fd.mu.Lock()
	defer fd.mu.Unlock()
	fd.requests = append(fd.requests, req)
	var obj map[string]any
	_ = json.Unmarshal(body, &obj)
	switch {
	case p == "/containers/create":
		name := r.URL.Query().Get("name")
		c := &fakeContainer{id: fd.newID(name), name: name, body: obj}
		fd.containers = append(fd.containers, c)
		writeJSON(w, http.StatusCreated, map[string]any{"Id": c.id, "Warnings": []string{}})
	case p == "/networks/create":
		name, _ := obj["Name"].(string)
		id := fd.newID(name)
		n := map[string]any{"Name": name, "Id": id, "Scope": "local", "Driver": orString(obj["Driver"], "bridge"),
			"Labels": orMap(obj["Labels"]), "Options": orMap(obj["Options"]), "Internal": obj["Internal"] == true,
			"Attachable": obj["Attachable"] == true, "Containers": map[string]any{}, "IPAM": map[string]any{"Driver": "default", "Config": []any{}}}
		fd.networks[name], fd.networks[id] = n, n
		writeJSON(w, http.StatusCreated, map[string]any{"Id": id, "Warning": ""})
	case p == "/volumes/create":
		name, _ := obj["Name"].(string)
		if name == "" {
			name = fd.newID("volume")
		}
		v := map[string]any{"Name": name, "Driver": orString(obj["Driver"], "local"), "Labels": orMap(obj["Labels"]),
			"Options": orMap(obj["DriverOpts"]), "Mountpoint": "/var/lib/docker/volumes/" + name + "/_data", "Scope": "local"}
		fd.volumes[name] = v
		writeJSON(w, http.StatusCreated, v)
	case p == "/images/create":
		ref := r.URL.Query().Get("fromImage")
		if tag := r.URL.Query().Get("tag"); tag != "" {
			if strings.HasPrefix(tag, "sha256:") {
				ref += "@" + tag
			} else {
				ref += ":" + tag
			}
		}
		fd.pulled[imageKey(ref)] = true
		writeJSON(w, http.StatusOK, map[string]string{"status": "dockward check: not pulled"})
	default:
		// start, connect, copy a config in, remove a diverged network:
		// recorded and judged like the rest, answered as done.
		w.WriteHeader(http.StatusNoContent)
	}
}

func (fd *fakeDaemon) container(ref string) *fakeContainer {
	for _, c := range fd.containers {
		if c.id == ref || c.name == ref || (len(ref) >= 12 && strings.HasPrefix(c.id, ref)) {
			return c
		}
	}
	return nil
}

// listContainers answers GET /containers/json with the containers created
// here whose labels match every label filter (Compose lists by project,
// service and one-off labels).
func (fd *fakeDaemon) listContainers(filters string) []map[string]any {
	var f map[string]map[string]bool
	_ = json.Unmarshal([]byte(filters), &f)
	out := []map[string]any{}
	for _, c := range fd.containers {
		labels := c.labels()
		ok := true
		for want := range f["label"] {
			k, v, hasV := strings.Cut(want, "=")
			got, has := labels[k]
			if !has || (hasV && got != v) {
				ok = false
			}
		}
		for want := range f["name"] {
			ok = ok && strings.Contains(c.name, want)
		}
		if ok {
			out = append(out, map[string]any{"Id": c.id, "Names": []string{"/" + c.name}, "Image": c.body["Image"],
				"Labels": labels, "State": "created", "Status": "Created", "Mounts": []any{},
				"NetworkSettings": map[string]any{"Networks": c.networks()}})
		}
	}
	return out
}

func (fd *fakeDaemon) matchFilter(objs map[string]map[string]any, filters string) []map[string]any {
	var f map[string]map[string]bool
	_ = json.Unmarshal([]byte(filters), &f)
	var out []map[string]any
	seen := map[string]bool{}
	for _, n := range objs {
		name, _ := n["Name"].(string)
		if seen[name] {
			continue
		}
		seen[name] = true
		for want := range f["name"] {
			if strings.Contains(name, want) {
				out = append(out, n)
			}
		}
	}
	return out
}

func (c *fakeContainer) labels() map[string]string {
	out := map[string]string{}
	if l, ok := c.body["Labels"].(map[string]any); ok {
		for k, v := range l {
			out[k], _ = v.(string)
		}
	}
	return out
}

func (c *fakeContainer) networks() map[string]any {
	out := map[string]any{}
	if nc, ok := c.body["NetworkingConfig"].(map[string]any); ok {
		if eps, ok := nc["EndpointsConfig"].(map[string]any); ok {
			for k, v := range eps {
				out[k] = v
			}
		}
	}
	return out
}

func (c *fakeContainer) inspect() map[string]any {
	cfg := map[string]any{}
	for k, v := range c.body {
		if k != "HostConfig" && k != "NetworkingConfig" {
			cfg[k] = v
		}
	}
	cfg["Labels"] = c.labels()
	return map[string]any{"Id": c.id, "Name": "/" + c.name, "Image": c.body["Image"], "Config": cfg,
		"HostConfig": orMap(c.body["HostConfig"]), "Mounts": []any{},
		"State":           map[string]any{"Status": "created", "Running": false},
		"NetworkSettings": map[string]any{"Networks": c.networks()}}
}

func orString(v any, dflt string) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return dflt
}

func orMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}
