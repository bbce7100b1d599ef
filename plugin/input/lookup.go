package input

import (
	"context"
	"errors"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"
)

// ErrNotFound is what a Lookup returns for an object the daemon does not have.
var ErrNotFound = errors.New("not found")

// ImageInfo is what the daemon knows of an image.
type ImageInfo struct {
	ID          string
	User        string // the image's configured USER ("" = root)
	RepoTags    []string
	RepoDigests []string
}

// ContainerInfo is what the daemon has of an existing container.
type ContainerInfo struct {
	ID   string
	Name string
	// ImageID is the id of the image the container was created from: the
	// image its /etc/passwd comes from, whatever the tag points to now.
	ImageID string
	Config  *container.Config
	// HostConfig is the configuration as its creator asked for it
	// (AsRequested): the defaults the daemon filled in are taken out.
	HostConfig *container.HostConfig
	// Networks are the networks the container is configured on, as the
	// daemon stored them (NetworkSettings.Networks): what a start attaches.
	Networks []ContainerNetwork
}

// ContainerNetwork is one network a container is configured on: the name
// it is stored under and, once set, the id the daemon attaches by (for a
// user-defined name a client-given NetworkID wins, as moby's getNetworkID).
type ContainerNetwork struct {
	Name      string
	NetworkID string
}

// NetworkInfo is what the daemon has of a network, resolved the way the
// daemon resolves a network reference (full id, name, id prefix).
type NetworkInfo struct {
	ID         string
	Name       string
	Driver     string
	Scope      string
	Internal   bool
	ConfigOnly bool
	ConfigFrom string // the config-only network this one takes its options from
	Options    map[string]string
}

// ServiceInfo is what a swarm manager has of a service.
type ServiceInfo struct {
	ID           string
	Spec         swarm.ServiceSpec
	PreviousSpec *swarm.ServiceSpec // nil when the service was never updated
	// PreviousRaw is PreviousSpec as the daemon sent it: fields today's
	// types dropped (20.10's top-level Networks) are still in it.
	PreviousRaw []byte
}

// Lookup asks the daemon about the objects a request refers to: the facts
// that are not in the request itself (B7, B8, B15).
type Lookup interface {
	Image(ctx context.Context, ref string) (ImageInfo, error)
	Container(ctx context.Context, ref string) (ContainerInfo, error)
	Volume(ctx context.Context, name string) (driver string, options map[string]string, err error)
	Network(ctx context.Context, ref string) (NetworkInfo, error)
	Service(ctx context.Context, ref string) (ServiceInfo, error)
	// ImageUserID resolves a user name in the image's /etc/passwd.
	ImageUserID(ctx context.Context, imageID, name string) (int, error)
	// EngineAPIVersion is the highest API version the daemon speaks
	// ("1.41" for Engine 20.10); "" when the lookup has no daemon to say.
	EngineAPIVersion(ctx context.Context) (string, error)
	// Exec returns the full id of the container an exec instance runs in
	// (GET /exec/{id}/json); ErrNotFound when the daemon has no such exec.
	Exec(ctx context.Context, id string) (containerID string, err error)
	// Task returns the id of the service a swarm task belongs to
	// (GET /tasks/{id}); ErrNotFound when the manager has no such task.
	Task(ctx context.Context, id string) (serviceID string, err error)
}

// PrefixLookup is a Lookup that can list the full ids that start with a
// prefix (kind: container, network, service). The daemon resolves a
// reference as a full id, then a name, then an id prefix; a name that is
// also a prefix of another object's id resolves to that object once the
// named one is renamed or removed, which the caller can do between the
// plugin's check and the handler.
type PrefixLookup interface {
	IDsWithPrefix(ctx context.Context, kind, prefix string) ([]string, error)
}

// noLookup is used when the plugin has no daemon to ask: every lookup
// fails, so every request that needs one is denied.
type noLookup struct{}

var errNoDaemon = errors.New("dockward has no daemon to ask (--docker-host)")

func (noLookup) Image(context.Context, string) (ImageInfo, error) { return ImageInfo{}, errNoDaemon }
func (noLookup) Container(context.Context, string) (ContainerInfo, error) {
	return ContainerInfo{}, errNoDaemon
}
func (noLookup) Volume(context.Context, string) (string, map[string]string, error) {
	return "", nil, errNoDaemon
}
func (noLookup) Network(context.Context, string) (NetworkInfo, error) {
	return NetworkInfo{}, errNoDaemon
}
func (noLookup) Service(context.Context, string) (ServiceInfo, error) {
	return ServiceInfo{}, errNoDaemon
}
func (noLookup) ImageUserID(context.Context, string, string) (int, error) { return 0, errNoDaemon }
func (noLookup) EngineAPIVersion(context.Context) (string, error)         { return "", errNoDaemon }
func (noLookup) Exec(context.Context, string) (string, error)             { return "", errNoDaemon }
func (noLookup) Task(context.Context, string) (string, error)             { return "", errNoDaemon }

// StaticLookup answers lookups from maps: for tests, and for evaluating
// requests away from any daemon. A missing entry is ErrNotFound.
type StaticLookup struct {
	Images     map[string]ImageInfo
	Containers map[string]container.CreateRequest
	// ContainerImages is the id of the image a container was created from,
	// when it is not (any longer) the one its image name points to.
	ContainerImages map[string]string
	Volumes         map[string]map[string]string // name -> local driver options
	Networks        map[string]NetworkInfo       // any reference the daemon would resolve -> network
	Services        map[string]ServiceInfo
	Passwd          map[string]map[string]int // image id -> user name -> uid
	EngineAPI       string                    // the daemon's API version; "" for none known
	Execs           map[string]string         // exec id -> the container it runs in
	Tasks           map[string]string         // task id -> its service id
}

// Image implements Lookup.
func (s StaticLookup) Image(_ context.Context, ref string) (ImageInfo, error) {
	if img, ok := s.Images[ref]; ok {
		return img, nil
	}
	return ImageInfo{}, ErrNotFound
}

// Container implements Lookup. The image id is the Images entry of the
// container's image, if there is one.
func (s StaticLookup) Container(_ context.Context, ref string) (ContainerInfo, error) {
	c, ok := s.Containers[ref]
	if !ok {
		return ContainerInfo{}, ErrNotFound
	}
	cfg, hc := c.Config, c.HostConfig
	if cfg == nil {
		cfg = &container.Config{}
	}
	if hc == nil {
		hc = &container.HostConfig{}
	}
	info := ContainerInfo{ID: ref, Name: ref, Config: cfg, HostConfig: hc}
	if c.NetworkingConfig != nil {
		for _, name := range sortedKeys(c.NetworkingConfig.EndpointsConfig) {
			cn := ContainerNetwork{Name: name}
			if ep := c.NetworkingConfig.EndpointsConfig[name]; ep != nil {
				cn.NetworkID = ep.NetworkID
			}
			info.Networks = append(info.Networks, cn)
		}
	}
	if img, ok := s.Images[cfg.Image]; ok {
		info.ImageID = img.ID
	}
	if id, ok := s.ContainerImages[ref]; ok {
		info.ImageID = id
	}
	return info, nil
}

// Volume implements Lookup.
func (s StaticLookup) Volume(_ context.Context, name string) (string, map[string]string, error) {
	if opts, ok := s.Volumes[name]; ok {
		return "local", opts, nil
	}
	return "", nil, ErrNotFound
}

// Network implements Lookup.
func (s StaticLookup) Network(_ context.Context, ref string) (NetworkInfo, error) {
	if n, ok := s.Networks[ref]; ok {
		return n, nil
	}
	return NetworkInfo{}, ErrNotFound
}

// Service implements Lookup.
func (s StaticLookup) Service(_ context.Context, ref string) (ServiceInfo, error) {
	if sv, ok := s.Services[ref]; ok {
		return sv, nil
	}
	return ServiceInfo{}, ErrNotFound
}

// ImageUserID implements Lookup.
func (s StaticLookup) ImageUserID(_ context.Context, imageID, name string) (int, error) {
	if uid, ok := s.Passwd[imageID][name]; ok {
		return uid, nil
	}
	return 0, ErrNotFound
}

// EngineAPIVersion implements Lookup.
func (s StaticLookup) EngineAPIVersion(context.Context) (string, error) { return s.EngineAPI, nil }

// Exec implements Lookup.
func (s StaticLookup) Exec(_ context.Context, id string) (string, error) {
	if c, ok := s.Execs[id]; ok {
		return c, nil
	}
	return "", ErrNotFound
}

// IDsWithPrefix implements PrefixLookup: the keys of the kind's map that
// are full ids starting with prefix.
func (s StaticLookup) IDsWithPrefix(_ context.Context, kind, prefix string) ([]string, error) {
	var keys []string
	switch kind {
	case "container":
		keys = sortedKeys(s.Containers)
	case "network":
		keys = sortedKeys(s.Networks)
	case "service":
		keys = sortedKeys(s.Services)
	}
	var ids []string
	for _, k := range keys {
		if len(k) >= 25 && strings.HasPrefix(k, prefix) && strings.Trim(k, "0123456789abcdefghijklmnopqrstuvwxyz") == "" {
			ids = append(ids, k)
		}
	}
	return ids, nil
}

// Task implements Lookup.
func (s StaticLookup) Task(_ context.Context, id string) (string, error) {
	if sv, ok := s.Tasks[id]; ok {
		return sv, nil
	}
	return "", ErrNotFound
}
