// Package compose judges a Compose project before it reaches a host: the
// requests Compose itself sent to dockward's capture daemon
// (capture.Compose) are decided one by one by the plugin's own path, and
// grouped by the service (or network, volume) they bring up. dockward never
// reads the Compose model itself beyond naming what Compose created and
// where in the files a service is written.
package compose

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/input"
)

// Labels Compose sets on what it creates (github.com/docker/compose/v2/pkg/api).
const (
	labelConfigFiles = "com.docker.compose.project.config_files"
	labelNetwork     = "com.docker.compose.network"
	labelVolume      = "com.docker.compose.volume"
)

// Decider decides one request (authz.Plugin.Decide).
type Decider interface {
	Decide(req authorization.Request) authz.Result
}

// Object is one thing Compose asked the daemon for, and the verdict.
type Object struct {
	Kind    string // container, network, volume, pull, or request (a connect, a start, ...)
	Name    string // the container, network or volume name; METHOD path for a request
	Image   string // for a container
	Service string // for a container: its Compose service
	Key     string // for a network or volume: its key in the Compose file
	Result  authz.Result
}

// Service is a service of the project and the verdict on its containers.
type Service struct {
	Name       string
	Containers []Object
	// Scale is the number of containers the project asks for ("" when the
	// file leaves it to Compose's default of one).
	NoContainers bool // scale 0: nothing to judge
	// Hooks: the service has post_start or pre_stop hooks, which Compose
	// runs as docker exec after the start and before the stop. check
	// creates, it does not start: those execs are not judged.
	Hooks bool
	// Build: the service has a build section. The build is a request of
	// its own (docker compose build, or up building a missing image) that
	// the daemon judges then (build_host_network, image_mint_admin_only);
	// check judges the containers, not the build.
	Build bool
	File  string
	Line  int
}

// Report is the verdict on a whole project.
type Report struct {
	Project  string
	Files    []string // the Compose files, as Compose's loader named them
	Services []Service
	// Resources are the project's networks, volumes and other requests
	// (image pulls, network connects of API < 1.44), in Compose's order.
	Resources []Object
}

// config is the little of `compose config --format json` that is read:
// the project name and which services exist and how many containers each
// asks for. Environment values in it are never read.
type config struct {
	Name     string `json:"name"`
	Services map[string]struct {
		Scale  *int `json:"scale"`
		Deploy *struct {
			Replicas *int `json:"replicas"`
		} `json:"deploy"`
		Build     json.RawMessage   `json:"build"`
		PostStart []json.RawMessage `json:"post_start"`
		PreStop   []json.RawMessage `json:"pre_stop"`
	} `json:"services"`
}

// Judge decides every request Compose sent and groups them. files are the
// -f files as given, used when no container names its config files.
func Judge(cfgJSON []byte, reqs []authorization.Request, d Decider, files []string) (*Report, error) {
	var cfg config
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		return nil, fmt.Errorf("read compose config: %w", err)
	}
	rep := &Report{Project: cfg.Name}
	byService := map[string]*Service{}
	for name, s := range cfg.Services {
		svc := &Service{Name: name, Hooks: len(s.PostStart)+len(s.PreStop) > 0, Build: len(s.Build) > 0 && string(s.Build) != "null"}
		if (s.Scale != nil && *s.Scale == 0) || (s.Deploy != nil && s.Deploy.Replicas != nil && *s.Deploy.Replicas == 0) {
			svc.NoContainers = true
		}
		byService[name] = svc
	}
	for _, req := range reqs {
		obj := describe(req)
		obj.Result = d.Decide(req)
		if obj.Kind == "container" {
			if len(rep.Files) == 0 {
				rep.Files = configFiles(req)
			}
			svc, ok := byService[obj.Service]
			if !ok {
				// A container of a service the config does not list (a
				// one-off, a dependency's): judged all the same.
				svc = &Service{Name: obj.Service}
				byService[obj.Service] = svc
			}
			svc.Containers = append(svc.Containers, obj)
			continue
		}
		rep.Resources = append(rep.Resources, obj)
	}
	if len(rep.Files) == 0 {
		rep.Files = files
	}
	for _, s := range byService {
		s.File, s.Line = Locate(rep.Files, "services", s.Name)
		rep.Services = append(rep.Services, *s)
	}
	sort.Slice(rep.Services, func(i, j int) bool { return rep.Services[i].Name < rep.Services[j].Name })
	return rep, nil
}

// describe names what a request creates, from its route and body labels.
func describe(req authorization.Request) Object {
	rt, err := input.Route(req)
	obj := Object{Kind: "request", Name: req.RequestMethod + " " + req.RequestURI}
	if err != nil {
		return obj
	}
	obj.Name = rt.Method + " " + rt.Path
	var body struct {
		Name   string
		Image  string
		Labels map[string]string
	}
	_ = json.Unmarshal(req.RequestBody, &body)
	switch rt.Endpoint {
	case "container.create":
		obj.Kind, obj.Name, obj.Image = "container", rt.Query.Get("name"), body.Image
		obj.Service = body.Labels[input.ComposeServiceLabel]
	case "network.create":
		obj.Kind, obj.Name, obj.Key = "network", body.Name, body.Labels[labelNetwork]
	case "volume.create":
		obj.Kind, obj.Name, obj.Key = "volume", body.Name, body.Labels[labelVolume]
	case "image.create":
		ref := rt.Query.Get("fromImage")
		if tag := rt.Query.Get("tag"); tag != "" {
			ref += ":" + tag
		}
		obj.Kind, obj.Name = "pull", ref
	}
	return obj
}

func configFiles(req authorization.Request) []string {
	var body struct{ Labels map[string]string }
	_ = json.Unmarshal(req.RequestBody, &body)
	v := body.Labels[labelConfigFiles]
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Allowed reports whether every container and resource is allowed.
func (r *Report) Allowed() bool {
	for _, o := range r.objects() {
		if !o.Result.Decision.Allow {
			return false
		}
	}
	return true
}

// Internal reports whether a decision could not be made (a lookup failed,
// the policy failed), and why; or a service Compose created nothing for.
func (r *Report) Internal() (bool, string) {
	for _, o := range r.objects() {
		if o.Result.Internal {
			if d := o.Result.Decision; d.Reason != "" {
				return true, d.Reason
			}
			return true, "dockward could not establish every fact the decision needs (see request_lookup_failed above)"
		}
	}
	for _, s := range r.Services {
		if len(s.Containers) == 0 && !s.NoContainers {
			return true, fmt.Sprintf("compose created no container for service %s: it cannot be judged", s.Name)
		}
		if s.Hooks && !s.NoContainers {
			return true, fmt.Sprintf("service %s has post_start or pre_stop hooks, which Compose runs as docker exec at up and down; "+
				"dockward check does not run them, so it cannot say they are allowed (check each with dockward check -- docker exec ...)", s.Name)
		}
	}
	return false, ""
}

func (r *Report) objects() []Object {
	var out []Object
	for _, s := range r.Services {
		out = append(out, s.Containers...)
	}
	return append(out, r.Resources...)
}

// Decision is the verdict on a service: denied when any of its containers
// is, with the first denied container's decision (replicas differ only in
// name and number).
func (s Service) Decision() decision.Decision {
	for _, c := range s.Containers {
		if !c.Result.Decision.Allow {
			return c.Result.Decision
		}
	}
	for _, c := range s.Containers {
		if len(c.Result.Decision.DryRun) > 0 {
			return c.Result.Decision
		}
	}
	if len(s.Containers) > 0 {
		return s.Containers[0].Result.Decision
	}
	return decision.Decision{Allow: true}
}

// ContainerNames lists the service's containers.
func (s Service) ContainerNames() []string {
	var out []string
	for _, c := range s.Containers {
		out = append(out, c.Name)
	}
	return out
}

// RelPath shows path relative to base when it is under it.
func RelPath(base, path string) string {
	if base != "" && strings.HasPrefix(path, strings.TrimSuffix(base, "/")+"/") {
		return strings.TrimPrefix(path, strings.TrimSuffix(base, "/")+"/")
	}
	return path
}

// fileURI is a SARIF artifact URI: a relative path as is, an absolute one
// as a file URI.
func fileURI(p string) string {
	if strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}
