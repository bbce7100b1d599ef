// Package input builds the one document every policy sees: a Docker API
// request as the daemon routes and decodes it, with facts computed (paths
// resolved, capabilities normalized, security options parsed) so that Rego
// only decides. The schema is documented in policies/README.md.
package input

import (
	"bytes"
	"context"
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
	Container *Container `json:"container,omitempty"` // container.create, service.create/update
	Service   *Service   `json:"service,omitempty"`   // service.create/update
	Exec      *Exec      `json:"exec,omitempty"`      // container.exec
	Update    *Update    `json:"update,omitempty"`    // container.update
	Volume    *Volume    `json:"volume,omitempty"`    // volume.create
	Image     *Image     `json:"image,omitempty"`     // image.create, image.tag, image.load
	Archive   *Archive   `json:"archive,omitempty"`   // container.archive_put
	Network   *Network   `json:"network,omitempty"`   // network.create, network.connect
	// Unknown lists the facts the plugin could not establish because a
	// daemon lookup failed. The request is still evaluated, so that every
	// other rule speaks, and request_lookup_failed denies it; the plugin
	// answers with Err (a plugin failure), never an allow.
	Unknown []Unknown `json:"unknown"`
}

// Unknown is one fact a failed daemon lookup left unestablished.
type Unknown struct {
	Fact   string `json:"fact"`   // what could not be learned, e.g. "the user of image busybox"
	Reason string `json:"reason"` // the lookup's error
}

// User is who the daemon says is calling (a TLS client CN, or empty).
type User struct {
	Name        string `json:"name"`
	AuthnMethod string `json:"authn_method"`
	// Groups are the user's groups in the host's user database, primary
	// group included, sorted: for a TLS user only (the name is one the
	// daemon verified); [] for everyone else and for a name the host does
	// not know. Never null, so Rego can iterate it.
	Groups []string `json:"groups"`
}

// GroupResolver gives an authenticated user's groups (userdb.Host reads
// the host's /etc/passwd and /etc/group). A user it does not know has no
// groups and no error; an error means the groups are unknown, and the
// request is denied (request_lookup_failed).
type GroupResolver interface {
	Groups(ctx context.Context, name string) ([]string, error)
}

// StaticGroups answers group lookups from a table: for tests, and for
// dockward check --group. A name not in it has no groups.
type StaticGroups map[string][]string

// Groups implements GroupResolver.
func (s StaticGroups) Groups(_ context.Context, name string) ([]string, error) {
	return append([]string{}, s[name]...), nil
}

type noGroups struct{}

func (noGroups) Groups(context.Context, string) ([]string, error) {
	return nil, errors.New("dockward has no user database to read groups from")
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

// Builder turns authz requests into Inputs. Its Resolver resolves host paths
// (the local filesystem when nil) and its Lookup asks the daemon about
// images, containers and volumes a request refers to (when nil, every
// request that needs a lookup is denied).
type Builder struct {
	Resolver Resolver
	Lookup   Lookup
	// Groups resolves a TLS user's groups; when nil, a TLS user's groups
	// are unknown and their requests are denied (fail closed: a level or
	// an admin granted by group cannot be decided).
	Groups GroupResolver
}

// bodyRequired lists the routes whose handler decodes a JSON body: without
// one the plugin cannot see what the daemon will do (B1, CVE-2024-41110).
var bodyRequired = map[string]bool{
	"container.create": true, "container.exec": true, "container.update": true,
	"volume.create": true, "network.create": true, "plugin.set": true,
	"service.create": true, "service.update": true, "secret.create": true, "config.create": true,
	"swarm.init": true, "swarm.join": true, "swarm.update": true, "node.update": true,
	"secret.update": true, "config.update": true, "network.connect": true,
}

// Build normalizes one authz request. A non-nil error means the request must
// be denied; errors of type *Error carry a reason fit for the docker CLI.
func (b Builder) Build(ctx context.Context, req authorization.Request) (*Input, error) {
	rt, err := Route(req)
	if err != nil {
		return nil, err
	}
	return b.BuildRouted(ctx, rt, req)
}

// Route routes the request as the daemon will; the errors are Build's.
func Route(req authorization.Request) (route.Route, error) {
	if req.RequestMethod == "" || req.RequestURI == "" {
		// go-plugins-helpers calls the plugin with a zero Request when it
		// cannot decode what dockerd sent; that must never be an allow.
		return route.Route{}, ErrNoRequest
	}
	rt, err := route.Parse(req.RequestMethod, req.RequestURI)
	if err != nil {
		return route.Route{}, denyf("cannot route the request: %v", err)
	}
	return rt, nil
}

// BuildRouted is Build for a request already routed with Route (the plugin
// routes first, to name the endpoint in the audit record whatever happens).
func (b Builder) BuildRouted(ctx context.Context, rt route.Route, req authorization.Request) (*Input, error) {
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

	// dockerd's handlers read their parameters with Request.ParseForm, which
	// takes a form-encoded body's values before the query's; the daemon never
	// forwards such a body to plugins. Parameters the plugin cannot see
	// (POST /build with networkmode=host in the body) are refused, on every
	// route: the docker CLI never sends form bodies.
	if formBody(req.RequestHeaders) {
		return nil, denyf("%s %s has a form-encoded body, which the daemon reads parameters from but never shows to plugins: send the parameters in the query string",
			rt.Method, rt.Path)
	}
	if err := authSuffixGuard(rt, req.RequestURI); err != nil {
		return nil, err
	}
	if bodyRequired[rt.Endpoint] && len(bytes.TrimSpace(req.RequestBody)) == 0 {
		// CVE-2024-41110: plugins that treated "no body" as "nothing to
		// check" allowed requests the daemon then decoded and ran.
		return nil, denyf("%s without a JSON body: the plugin cannot check it "+
			"(send it with Content-Type: application/json and a body under 1 MiB)", rt.Endpoint)
	}
	v := &views{b: b, ctx: ctx, rt: rt}
	defer func() { in.Unknown = append([]Unknown{}, v.unknowns...) }()
	in.User.Groups = v.groups(in.User)
	var err error
	switch rt.Endpoint {
	case "container.create":
		err = v.create(in, req.RequestBody)
	case "container.exec":
		err = v.exec(in, req.RequestBody)
	case "container.update":
		err = v.update(in, req.RequestBody)
	case "container.start", "container.restart":
		err = v.start(in, req.RequestBody, req.RequestHeaders)
	case "container.archive_put":
		err = v.archivePut(in)
	case "volume.create":
		err = v.volume(in, req.RequestBody)
	case "service.create", "service.update":
		err = v.service(in, req.RequestBody)
	case "image.create":
		err = v.imageCreate(in, req.RequestBody, req.RequestHeaders)
	case "image.tag":
		err = v.imageTag(in, req.RequestBody, req.RequestHeaders)
	case "image.load":
		err = v.imageLoad(in, req.RequestBody, req.RequestHeaders)
	case "network.create":
		err = v.networkCreate(in, req.RequestBody)
	case "network.connect":
		err = v.networkConnect(in, req.RequestBody)
	default:
		in.Body, err = decodeGeneric(req.RequestBody, contentType(req.RequestHeaders))
	}
	if err != nil {
		return nil, err
	}
	// Secrets leave the document here, after the views computed their
	// facts and before anything reads or logs it (redact.go).
	redact(in)
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

// formBody reports a body the daemon would read parameters from: Go's
// ParseForm takes a POST's url-encoded body before the query, and dockerd
// does not forward such a body to plugins.
func formBody(headers map[string]string) bool {
	mt, _, err := mime.ParseMediaType(contentType(headers))
	return err == nil && (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data")
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
	return v, nil
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
