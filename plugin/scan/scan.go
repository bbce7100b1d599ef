// Package scan judges the containers that already exist: each one's
// configuration, as the daemon reports it, is turned back into the create
// request that would make it, and decided by the plugin's own path. This is
// how an operator sees what enforcement would break before turning it on.
package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/moby/moby/api/types/container"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/input"
)

// ContainerLister is what scan needs from the daemon.
type ContainerLister interface {
	Containers(ctx context.Context, all bool) ([]container.Summary, error)
	// Container returns a container's configuration as its creator asked
	// for it, daemon defaults taken out (input.AsRequested), as
	// daemon.Client does for every lookup.
	Container(ctx context.Context, ref string) (input.ContainerInfo, error)
}

// Decider decides one request (authz.Plugin.Decide).
type Decider interface {
	Decide(req authorization.Request) authz.Result
}

// Finding is one container and what the policy says of it.
type Finding struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Image  string       `json:"image"`
	State  string       `json:"state"`
	Result authz.Result `json:"-"`
}

// Run decides every container (running ones, or all) and returns the
// findings sorted by name.
func Run(ctx context.Context, src ContainerLister, d Decider, all bool) ([]Finding, error) {
	list, err := src.Containers(ctx, all)
	if err != nil {
		return nil, err
	}
	var out []Finding
	// Every container is judged: none is skipped for a label or a name,
	// which any client can set (a privileged container labelled as one of
	// dockward's passwd helpers would pass unseen). The helpers themselves
	// are never started, pass the restricted policy by construction and are
	// removed right after use; one left by a crash shows up here (with
	// --all) until serve sweeps it at its next start.
	for _, s := range list {
		name := strings.TrimPrefix(firstOr(s.Names, s.ID), "/")
		info, err := src.Container(ctx, s.ID)
		if errors.Is(err, input.ErrNotFound) {
			continue // removed since the listing: nothing left to judge
		}
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", name, err)
		}
		cfg, hc := info.Config, info.HostConfig
		req, err := CreateRequest(name, cfg, hc)
		if err != nil {
			return nil, fmt.Errorf("rebuild the create request of %s: %w", name, err)
		}
		out = append(out, Finding{ID: s.ID, Name: name, Image: cfg.Image, State: string(s.State), Result: d.Decide(req)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CreateRequest rebuilds the create request of an existing container from
// its configuration as its creator asked for it.
func CreateRequest(name string, cfg *container.Config, hc *container.HostConfig) (authorization.Request, error) {
	body, err := json.Marshal(container.CreateRequest{Config: cfg, HostConfig: hc})
	if err != nil {
		return authorization.Request{}, err
	}
	return authorization.Request{
		RequestMethod:  "POST",
		RequestURI:     "/containers/create?name=" + url.QueryEscape(name),
		RequestHeaders: map[string]string{"Content-Type": "application/json"},
		RequestBody:    body,
	}, nil
}

func firstOr(names []string, dflt string) string {
	if len(names) > 0 {
		return names[0]
	}
	return dflt
}
