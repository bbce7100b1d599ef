// Package route turns the raw RequestURI that dockerd forwards to an authz
// plugin into the route the daemon will actually dispatch: percent-decoded,
// cleaned, with the /vX.Y prefix and the query removed.
//
// The daemon authorizes the raw URI but routes the decoded, cleaned path
// (gorilla/mux matches on URL.Path), so every comparison a policy makes must
// be against what this package returns, never against the raw string
// (bypass class B5: /containers/%63reate, //containers/create, ...).
package route

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Route is a request as the daemon routes it.
type Route struct {
	Method     string     // upper-cased HTTP method
	Path       string     // decoded, cleaned, version-stripped, no query
	APIVersion string     // "1.41" for /v1.41/..., "" without a prefix
	Query      url.Values // decoded query parameters
	Endpoint   string     // the daemon's route name, "" when unknown
	ID         string     // the {id} or {name} path parameter, if any
}

// WithoutQuery is a raw request URI without its query string.
func WithoutQuery(rawURI string) string {
	p, _, _ := strings.Cut(rawURI, "?")
	return p
}

// Write reports whether the request can change state: anything but GET/HEAD.
func (r Route) Write() bool { return r.Method != "GET" && r.Method != "HEAD" }

// versionPrefix is the daemon's own pattern: "/v{version:[0-9.]+}".
var versionPrefix = regexp.MustCompile(`^/v([0-9.]+)(/|$)`)

// Parse routes a raw RequestURI the way dockerd does. It fails only when the
// URI cannot be parsed at all; the daemon would refuse such a request, and the
// plugin denies it.
func Parse(method, rawURI string) (Route, error) {
	if rawURI == "" {
		return Route{}, fmt.Errorf("empty request URI")
	}
	// Errors name the URI without its query, which can carry secrets
	// (POST /build?buildargs=...): they reach the audit log and the logs.
	u, err := url.ParseRequestURI(rawURI)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.Error() repeats the whole URI
		}
		return Route{}, fmt.Errorf("parse request URI %q: %w", WithoutQuery(rawURI), err)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Route{}, fmt.Errorf("parse query of %q: %w", WithoutQuery(rawURI), err)
	}
	p := u.Path // already percent-decoded: %2F becomes "/", as mux sees it
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p)
	r := Route{Method: strings.ToUpper(method), Query: query}
	if m := versionPrefix.FindStringSubmatch(p); m != nil {
		r.APIVersion = m[1]
		p = path.Clean("/" + strings.TrimPrefix(p, m[0]))
	}
	r.Path = p
	r.Endpoint, r.ID = match(r.Method, p)
	return r, nil
}
