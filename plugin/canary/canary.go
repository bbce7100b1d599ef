// Package canary proves that dockerd enforces dockward: it sends, through
// the daemon, a container create that the policy must deny and that creates
// nothing either way, and reads the daemon's answer. `dockward doctor` sends
// it once; `dockward serve` sends it every canary_interval.
//
// The create asks for a privileged container of an image that does not
// exist ("dockward-doctor-canary:none"). With enforcement on, dockerd asks
// the plugin first and answers 403 "authorization denied by plugin <name>";
// with enforcement off it goes on to the create, which fails with 404 "No
// such image" before anything is made. Only a 201 means a container was
// created (a daemon that has such an image): it is removed at once and
// reported.
package canary

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

const (
	// NamePrefix starts the name of every canary container, so that its
	// audit record (container_name) is recognisable.
	NamePrefix = "dockward-canary-"
	// Image is a reference no daemon is expected to have.
	Image = "dockward-doctor-canary:none"
)

// Outcome is what the daemon's answer means.
type Outcome string

const (
	// Enforced: the daemon asked an authorization plugin and it denied.
	Enforced Outcome = "enforced"
	// PluginFailed: the daemon asked an authorization plugin and could not
	// get an answer (down, or it answered an error): it fails closed, so
	// every request is refused.
	PluginFailed Outcome = "plugin-failed"
	// NotEnforcing: the daemon went on to the create (404 no such image):
	// no authorization plugin judged it, or one allowed it.
	NotEnforcing Outcome = "not-enforcing"
	// Created: a container was created: nothing judged the request, and the
	// image exists. The container is removed (Removed says whether).
	Created Outcome = "created"
	// Unreachable: the daemon did not answer at all.
	Unreachable Outcome = "unreachable"
	// Unexpected: any other answer.
	Unexpected Outcome = "unexpected"
)

// Result is one canary.
type Result struct {
	Outcome    Outcome `json:"outcome"`
	Name       string  `json:"container_name"`        // the canary's container name
	Status     int     `json:"status,omitempty"`      // HTTP status of the create
	Message    string  `json:"message,omitempty"`     // the daemon's message
	Plugin     string  `json:"plugin,omitempty"`      // the plugin the daemon names in a denial or failure
	DecisionID string  `json:"decision_id,omitempty"` // dockward's decision id, when the denial carries one
	Container  string  `json:"container_id,omitempty"`
	Removed    bool    `json:"removed,omitempty"` // a created canary was removed
}

// ByPlugin reports whether the daemon named the plugin called name. A
// managed plugin is named by its reference (dockward:latest,
// registry/dockward/dockward:1.2) while its socket is dockward.sock, so the
// repository's last element is also accepted.
func (r Result) ByPlugin(name string) bool {
	if r.Plugin == "" || name == "" {
		return false
	}
	if r.Plugin == name {
		return true
	}
	return baseName(r.Plugin) == baseName(name)
}

func baseName(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	if i := strings.IndexAny(ref, ":@"); i >= 0 {
		ref = ref[:i]
	}
	return ref
}

var (
	deniedRe     = regexp.MustCompile(`authorization denied by plugin ([^:\s]+(?::[^:\s]+)?): `)
	failedRe     = regexp.MustCompile(`plugin ([^\s]+) failed with error`)
	decisionIDRe = regexp.MustCompile(`dockward decision ([0-9a-fA-F-]{8,})`)
)

// Body is the create request the canary sends: privileged (every dockward
// level denies it). The user is numeric so that the policy judges it on its
// rules without asking the daemon for the image's user (which it lacks).
func Body() []byte {
	b, _ := json.Marshal(map[string]any{
		"Image":      Image,
		"User":       "65534:65534",
		"Cmd":        []string{"true"},
		"Labels":     map[string]string{"dockward.canary": "true"},
		"HostConfig": map[string]any{"Privileged": true},
	})
	return b
}

// NewName is a fresh canary container name.
func NewName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return NamePrefix + hex.EncodeToString(b[:])
}

// Client sends requests to one daemon address.
type Client struct {
	http *http.Client
	base string // "http://docker" for unix sockets
}

// NewClient returns a client of host: unix:///path or tcp://host:port
// (plain HTTP; the TLS upstream is checked elsewhere).
func NewClient(host string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("invalid docker host %q: %w", host, err)
	}
	var dial func(ctx context.Context) (net.Conn, error)
	base := "http://docker"
	switch u.Scheme {
	case "unix":
		path := u.Path
		if path == "" {
			return nil, fmt.Errorf("invalid docker host %q: no socket path", host)
		}
		dial = func(ctx context.Context) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
	case "tcp":
		addr := u.Host
		dial = func(ctx context.Context) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}
		base = "http://" + addr
	default:
		return nil, fmt.Errorf("invalid docker host %q: expected unix:///path or tcp://host:port", host)
	}
	return &Client{base: base, http: &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
			DisableKeepAlives: true, // one probe, one connection: nothing lingers on the daemon
		},
	}}, nil
}

// Do sends one request and returns the status and body (at most 1 MiB).
func (c *Client) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// Send sends the canary to the daemon at host and says what the answer
// means. A canary that was created is removed before Send returns.
func Send(ctx context.Context, c *Client) Result {
	r := Result{Name: NewName()}
	status, body, err := c.Do(ctx, http.MethodPost, "/containers/create?name="+url.QueryEscape(r.Name), Body())
	if err != nil {
		r.Outcome, r.Message = Unreachable, err.Error()
		return r
	}
	r.Status = status
	return classify(ctx, c, r, body)
}

func classify(ctx context.Context, c *Client, r Result, body []byte) Result {
	var msg struct {
		Message string `json:"message"`
		ID      string `json:"Id"`
	}
	if err := json.Unmarshal(body, &msg); err != nil || (msg.Message == "" && msg.ID == "") {
		msg.Message = strings.TrimSpace(string(body))
	}
	r.Message = msg.Message
	if m := decisionIDRe.FindStringSubmatch(r.Message); m != nil {
		r.DecisionID = m[1]
	}
	switch {
	case r.Status == http.StatusCreated:
		r.Outcome, r.Container, r.Message = Created, msg.ID, ""
		r.Removed = remove(ctx, c, msg.ID, r.Name)
	case deniedRe.MatchString(r.Message):
		r.Outcome, r.Plugin = Enforced, deniedRe.FindStringSubmatch(r.Message)[1]
	case failedRe.MatchString(r.Message):
		r.Outcome, r.Plugin = PluginFailed, failedRe.FindStringSubmatch(r.Message)[1]
	case r.Status == http.StatusNotFound && strings.Contains(strings.ToLower(r.Message), "no such image"):
		r.Outcome = NotEnforcing
	default:
		r.Outcome = Unexpected
	}
	return r
}

// remove deletes a canary that was created; by id, else by its name.
func remove(ctx context.Context, c *Client, id, name string) bool {
	ref := id
	if ref == "" {
		ref = name
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	status, _, err := c.Do(ctx, http.MethodDelete, "/containers/"+url.PathEscape(ref)+"?force=1&v=1", nil)
	return err == nil && (status == http.StatusNoContent || status == http.StatusOK)
}

// Summary says in one sentence what the result means for the daemon.
func (r Result) Summary(plugin string) string {
	switch r.Outcome {
	case Enforced:
		s := fmt.Sprintf("dockerd refused the canary create (%s): authorization denied by plugin %s", r.Name, r.Plugin)
		if r.DecisionID != "" {
			s += ", dockward decision " + r.DecisionID
		}
		if !r.ByPlugin(plugin) {
			s += fmt.Sprintf(" — not by %s", plugin)
		}
		return s
	case PluginFailed:
		return fmt.Sprintf("dockerd asked plugin %s and it failed (every request is refused until it answers): %s", r.Plugin, firstLine(r.Message))
	case NotEnforcing:
		return fmt.Sprintf("dockerd did not refuse the canary create (%s): it went on to look for the image (%d %s), so no authorization plugin denied a privileged container: not enforcing", r.Name, r.Status, firstLine(r.Message))
	case Created:
		if r.Removed {
			return fmt.Sprintf("dockerd CREATED the privileged canary container %s (%s): not enforcing; it was removed", r.Name, short(r.Container))
		}
		return fmt.Sprintf("dockerd CREATED the privileged canary container %s (%s): not enforcing, and removing it FAILED: remove it by hand (docker rm -f %s)", r.Name, short(r.Container), r.Name)
	case Unreachable:
		return "the daemon did not answer: " + r.Message
	}
	return fmt.Sprintf("unexpected answer to the canary create: %d %s", r.Status, firstLine(r.Message))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
