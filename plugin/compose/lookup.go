package compose

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/moby/moby/api/types/container"

	"github.com/dockward/dockward/plugin/capture"
	"github.com/dockward/dockward/plugin/input"
)

// sessionLookup answers the plugin's lookups of the networks and volumes
// the project itself creates from the creates Compose sent before its
// containers, as the daemon would answer them by then (Compose creates
// them first, with exactly these drivers and options); everything else is
// the daemon's to say. A CI runner with no daemon can then judge a project
// that has its own networks and named volumes.
type sessionLookup struct {
	input.Lookup
	networks   map[string]input.NetworkInfo // by name and by the id the capture gave it
	volumes    map[string]volumeInfo
	containers map[string]input.ContainerInfo // by id and by name
}

type volumeInfo struct {
	driver  string
	options map[string]string
}

// SessionLookup wraps base with what reqs create; created are the ids the
// capture daemon gave the containers (a service with network_mode
// service:db joins db's container by that id, which by then exists on the
// daemon with db's configuration).
func SessionLookup(base input.Lookup, reqs []authorization.Request, created []capture.Created) input.Lookup {
	s := &sessionLookup{Lookup: base, networks: map[string]input.NetworkInfo{}, volumes: map[string]volumeInfo{},
		containers: map[string]input.ContainerInfo{}}
	ids := map[string]string{}
	for _, c := range created {
		ids[c.Name] = c.ID
	}
	for _, req := range reqs {
		rt, err := input.Route(req)
		if err != nil {
			continue
		}
		switch rt.Endpoint {
		case "container.create":
			var cr container.CreateRequest
			name := rt.Query.Get("name")
			if json.Unmarshal(req.RequestBody, &cr) != nil || name == "" || ids[name] == "" {
				continue
			}
			if cr.Config == nil {
				cr.Config = &container.Config{}
			}
			hc := container.HostConfig{}
			if cr.HostConfig != nil {
				hc = input.AsRequested(*cr.HostConfig, "")
			}
			info := input.ContainerInfo{ID: ids[name], Name: name, Config: cr.Config, HostConfig: &hc}
			if cr.NetworkingConfig != nil {
				for n := range cr.NetworkingConfig.EndpointsConfig {
					info.Networks = append(info.Networks, input.ContainerNetwork{Name: n})
				}
				sort.Slice(info.Networks, func(i, j int) bool { return info.Networks[i].Name < info.Networks[j].Name })
			}
			s.containers[info.ID], s.containers[name] = info, info
		case "network.create":
			var b struct {
				Name       string
				Driver     string
				Internal   bool
				ConfigOnly bool
				ConfigFrom *struct{ Network string }
				Options    map[string]string
			}
			if json.Unmarshal(req.RequestBody, &b) != nil || b.Name == "" {
				continue
			}
			if b.Driver == "" {
				b.Driver = "bridge" // the daemon's default
			}
			n := input.NetworkInfo{ID: b.Name, Name: b.Name, Driver: b.Driver, Scope: "local", Internal: b.Internal,
				ConfigOnly: b.ConfigOnly, Options: b.Options}
			if b.ConfigFrom != nil {
				n.ConfigFrom = b.ConfigFrom.Network
			}
			s.networks[b.Name] = n
		case "volume.create":
			var b struct {
				Name       string
				Driver     string
				DriverOpts map[string]string
			}
			if json.Unmarshal(req.RequestBody, &b) != nil || b.Name == "" {
				continue
			}
			if b.Driver == "" {
				b.Driver = "local"
			}
			s.volumes[b.Name] = volumeInfo{b.Driver, b.DriverOpts}
		}
	}
	return s
}

func (s *sessionLookup) Container(ctx context.Context, ref string) (input.ContainerInfo, error) {
	if c, ok := s.containers[ref]; ok {
		return c, nil
	}
	return s.Lookup.Container(ctx, ref)
}

func (s *sessionLookup) Network(ctx context.Context, ref string) (input.NetworkInfo, error) {
	if n, ok := s.networks[ref]; ok {
		return n, nil
	}
	return s.Lookup.Network(ctx, ref)
}

func (s *sessionLookup) Volume(ctx context.Context, name string) (string, map[string]string, error) {
	if v, ok := s.volumes[name]; ok {
		return v.driver, v.options, nil
	}
	return s.Lookup.Volume(ctx, name)
}

// IDsWithPrefix keeps the daemon's prefix lookups (ownership) when it has them.
func (s *sessionLookup) IDsWithPrefix(ctx context.Context, kind, prefix string) ([]string, error) {
	if pl, ok := s.Lookup.(input.PrefixLookup); ok {
		return pl.IDsWithPrefix(ctx, kind, prefix)
	}
	return nil, nil
}
