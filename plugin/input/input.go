// Package input builds the one document every policy sees: a Docker API
// request as the daemon routes and decodes it, with facts computed (paths
// resolved, capabilities normalized, security options parsed) so that Rego
// only decides. The schema is documented in policies/README.md.
package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/route"
)

// SchemaVersion is the version of the input document (policies/README.md).
const SchemaVersion = 1

// MaxBody is the largest body dockerd forwards to a plugin (1 MiB); anything
// larger is not ours to see, so it is never decoded.
const MaxBody = 1 << 20

// Input is the policy input document.
type Input struct {
	Version   int        `json:"version"`
	User      User       `json:"user"`
	Request   Request    `json:"request"`
	Route     RouteInfo  `json:"route"`
	Body      any        `json:"body"`
	Container *Container `json:"container,omitempty"`
}

// User is who the daemon says is calling (a TLS client CN, or empty).
type User struct {
	Name        string `json:"name"`
	AuthnMethod string `json:"authn_method"`
}

// Request is the HTTP request as routed.
type Request struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	APIVersion string              `json:"api_version"`
	Query      map[string][]string `json:"query"`
}

// RouteInfo names the daemon route the request reaches.
type RouteInfo struct {
	Endpoint string `json:"endpoint"`
	ID       string `json:"id"`
	Write    bool   `json:"write"`
}

// Error is a request the plugin refuses to evaluate: its body cannot be read
// the way the daemon would read it. It is always a deny.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

// ErrNoRequest is a protocol failure: the authz request had no method or URI.
var ErrNoRequest = errors.New("the authorization request carried no method or URI (dockward could not decode what dockerd sent)")

func denyf(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Builder turns authz requests into Inputs. Its Resolver resolves host paths;
// the zero Builder resolves against the local filesystem.
type Builder struct {
	Resolver Resolver
}

// Build normalizes one authz request. A non-nil error means the request must
// be denied; errors of type *Error carry a reason fit for the docker CLI.
func (b Builder) Build(req authorization.Request) (*Input, error) {
	if req.RequestMethod == "" || req.RequestURI == "" {
		// go-plugins-helpers calls the plugin with a zero Request when it
		// cannot decode what dockerd sent; that must never be an allow.
		return nil, ErrNoRequest
	}
	rt, err := route.Parse(req.RequestMethod, req.RequestURI)
	if err != nil {
		return nil, denyf("cannot route the request: %v", err)
	}
	in := &Input{
		Version: SchemaVersion,
		User:    User{Name: req.User, AuthnMethod: req.UserAuthNMethod},
		Request: Request{Method: rt.Method, Path: rt.Path, APIVersion: rt.APIVersion, Query: rt.Query},
		Route:   RouteInfo{Endpoint: rt.Endpoint, ID: rt.ID, Write: rt.Write()},
	}
	if in.Request.Query == nil {
		in.Request.Query = map[string][]string{}
	}
	if len(req.RequestBody) > MaxBody {
		return nil, denyf("request body is %d bytes, over the 1 MiB that dockerd forwards to plugins", len(req.RequestBody))
	}

	switch rt.Endpoint {
	case "container.create":
		// CVE-2024-41110: a create whose body the plugin never saw was
		// allowed by plugins that treated "no body" as "nothing to check".
		if len(bytes.TrimSpace(req.RequestBody)) == 0 {
			return nil, denyf("container create without a JSON body: the plugin cannot check it " +
				"(send the request with Content-Type: application/json and a body under 1 MiB)")
		}
		cr, body, err := decodeCreate(req.RequestBody)
		if err != nil {
			return nil, err
		}
		in.Body = body
		c, err := b.container(cr, rt)
		if err != nil {
			return nil, err
		}
		in.Container = c
	default:
		body, err := decodeGeneric(req.RequestBody, contentType(req.RequestHeaders))
		if err != nil {
			return nil, err
		}
		in.Body = body
	}
	return in, nil
}

// contentType finds Content-Type in dockerd's header map, whose keys are in
// canonical form but are matched case-insensitively here all the same.
func contentType(h map[string]string) string {
	for k, v := range h {
		if strings.EqualFold(k, "Content-Type") {
			return v
		}
	}
	return ""
}

// decodeGeneric decodes a body of an endpoint without a typed view. Bodies
// that are not JSON (tar streams for build/load, for instance) are not sent to
// plugins by dockerd at all; if one arrives, Rego sees null.
func decodeGeneric(raw []byte, ct string) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	if mt, _, err := mime.ParseMediaType(ct); ct != "" && (err != nil || mt != "application/json") {
		return nil, nil
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, denyf("request body is not valid JSON: %v", err)
	}
	redactEnv(v)
	return v, nil
}

// redactEnv replaces the values of any "Env" list (any key case) with the
// variable names, so secrets never reach a policy, a log or an audit record.
func redactEnv(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if strings.EqualFold(k, "env") {
				if list, ok := val.([]any); ok {
					for i, e := range list {
						if s, ok := e.(string); ok {
							list[i] = EnvName(s)
						}
					}
					continue
				}
			}
			redactEnv(val)
		}
	case []any:
		for _, e := range t {
			redactEnv(e)
		}
	}
}

// EnvName returns the name part of a NAME=value entry.
func EnvName(kv string) string {
	name, _, _ := strings.Cut(kv, "=")
	return name
}

// decodeJSON decodes the first JSON value of raw as dockerd does: with
// encoding/json's Decoder (case-insensitive keys, last duplicate wins, unknown
// keys ignored, trailing data ignored).
func decodeJSON(raw []byte, v any) error {
	err := json.NewDecoder(bytes.NewReader(raw)).Decode(v)
	if errors.Is(err, io.EOF) {
		return errors.New("empty body")
	}
	return err
}
