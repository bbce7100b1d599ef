package input

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockward/dockward/plugin/route"
)

// views builds the typed views of one request.
type views struct {
	b   Builder
	ctx context.Context
	rt  route.Route
	// unknowns are the facts failed lookups left open (Input.Unknown).
	unknowns []Unknown
}

// unknown records that a lookup failed: the fact stays unestablished in
// the view (in the direction that denies) and the decision becomes a plugin
// failure listing every violation, not only this one.
func (v *views) unknown(fact string, err error) {
	v.unknowns = append(v.unknowns, Unknown{Fact: fact, Reason: err.Error()})
}

// groups resolves the caller's groups. Only a TLS user has a name the
// daemon verified; any other caller, even one with a name, has none (the
// authz protocol sets User only from a verified certificate today, and
// this holds should a daemon ever pass another kind).
func (v *views) groups(u User) []string {
	if u.AuthnMethod != "TLS" || u.Name == "" {
		return []string{}
	}
	r := v.b.Groups
	if r == nil {
		r = noGroups{}
	}
	gs, err := r.Groups(v.ctx, u.Name)
	if err != nil {
		v.unknown(fmt.Sprintf("the groups of user %s", u.Name), err)
		return []string{}
	}
	gs = append([]string{}, gs...)
	sort.Strings(gs)
	return gs
}

func (v *views) lookup() Lookup {
	if v.b.Lookup == nil {
		return noLookup{}
	}
	return v.b.Lookup
}

func (v *views) create(in *Input, raw []byte) error {
	cr, body, err := decodeCreate(raw)
	if err != nil {
		return err
	}
	in.Body = body
	in.Container, err = v.containerView(cr.Config, cr.HostConfig, v.rt.Query.Get("name"), true)
	if err != nil {
		return err
	}
	if in.Container.Networks, err = v.containerNetworks(string(cr.HostConfig.NetworkMode), cr.NetworkingConfig); err != nil {
		return err
	}
	if nc := cr.NetworkingConfig; nc != nil {
		for _, name := range sortedKeys(nc.EndpointsConfig) {
			if ep := nc.EndpointsConfig[name]; ep != nil {
				addSysctls(in.Container, endpointSysctls(ep.DriverOpts))
			}
		}
	}
	in.Container.ImageRef, err = v.imageRef(in.Container.Image)
	return err
}

// addSysctls adds an endpoint's interface sysctls to the container's: the
// daemon sets both (no_unsafe_sysctls judges them alike).
func addSysctls(c *Container, s map[string]string) {
	for k, val := range s {
		if c.Sysctls == nil {
			c.Sysctls = map[string]string{}
		}
		c.Sysctls[k] = val
	}
}

// lookupUser applies the image's configured USER when the request gives
// none (B15): the runtime does the same.
func (v *views) lookupUser(c *Container) error {
	needImage := c.User.Raw == "" || (c.User.UID == nil && c.User.Name != "root")
	if !needImage {
		return nil
	}
	img, err := v.lookup().Image(v.ctx, c.Image)
	if errors.Is(err, ErrNotFound) {
		return denyf("image %q is not on this host, so its user cannot be checked: pull it first (docker pull %s) or give a numeric --user", c.Image, c.Image)
	}
	if err != nil {
		// The user stays as requested: "" or an unresolved name, which
		// non_root_user denies as unverifiable.
		v.unknown(fmt.Sprintf("the user of image %s", c.Image), err)
		return nil
	}
	if c.User.Raw == "" {
		u := parseUser(img.User)
		u.Source = "image"
		c.User = u
	}
	return v.resolveName(&c.User, img.ID)
}

// resolveName resolves a user name to its uid in the image's /etc/passwd,
// as the runtime will ("--user app" where the image maps app to 1000). A
// name that is not there stays unresolved (uid null) and is denied.
func (v *views) resolveName(u *ContainerUser, imageID string) error {
	if u.UID != nil || u.Name == "" || u.Name == "root" {
		return nil
	}
	uid, err := v.lookup().ImageUserID(v.ctx, imageID, u.Name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		v.unknown(fmt.Sprintf("the uid of user %q in image %s", u.Name, imageID), err)
		return nil
	}
	u.UID = &uid
	u.Resolved = true
	return nil
}

// maxPeerDepth bounds how far dockward follows containers that join
// containers (X --volumes-from A, A --volumes-from B, ...).
const maxPeerDepth = 8

// peerEdge is one container a container joins.
type peerEdge struct{ via, target string }

// peerEdges are the containers c joins by namespace or --volumes-from.
func peerEdges(c *Container) []peerEdge {
	var out []peerEdge
	modes := []struct{ via, mode string }{
		{"network", c.Namespaces.Network}, {"pid", c.Namespaces.PID}, {"ipc", c.Namespaces.IPC},
		{"uts", c.Namespaces.UTS}, {"userns", c.Namespaces.Userns}, {"cgroupns", c.Namespaces.Cgroupns},
	}
	for _, m := range modes {
		if target, ok := cutPrefixFold(m.mode, "container:"); ok {
			out = append(out, peerEdge{m.via, target})
		}
	}
	for _, vf := range c.VolumesFrom {
		// "name[:ro|:rw]"
		target, _, _ := strings.Cut(vf, ":")
		out = append(out, peerEdge{"volumes_from", target})
	}
	return out
}

// lookupPeers builds the view of every container this one joins by
// namespace or --volumes-from (B7, B8), as the daemon has it, and of the
// containers those join in turn, as far as the same thing is shared: the
// daemon hands X --volumes-from A the volumes A took from B, and X
// --network container:A the namespace A took from B (issue 11 item 12).
// Those come into c.Peers flat, each with the chain it came Through; a
// chain that changes what it shares (A's volumes, B's network) gives X
// nothing of B. Each peer's named volumes are looked up like the create's.
// Chains longer than maxPeerDepth are denied; a container met twice is
// judged once.
func (v *views) lookupPeers(c *Container) error {
	seen := map[string]bool{}
	var walk func(edges []peerEdge, via string, through []string) error
	walk = func(edges []peerEdge, via string, through []string) error {
		for _, e := range edges {
			if via != "" && e.via != via {
				continue // shares something else: nothing of it reaches c
			}
			if len(through) >= maxPeerDepth {
				return denyf("%s joins a chain of containers deeper than %d (%s -> %s): dockward does not follow it", e.via, maxPeerDepth, strings.Join(through, " -> "), e.target)
			}
			info, err := v.lookup().Container(v.ctx, e.target)
			if errors.Is(err, ErrNotFound) {
				return denyf("%s joins container %q, which does not exist", e.via, e.target)
			}
			if err != nil {
				v.unknown(fmt.Sprintf("container %s (joined by %s)", e.target, e.via), err)
				continue
			}
			key := info.ID
			if key == "" {
				key = e.target
			}
			if seen[e.via+"/"+key] {
				continue
			}
			seen[e.via+"/"+key] = true
			peer, err := v.containerView(info.Config, info.HostConfig, e.target, false)
			if err != nil {
				return err
			}
			if err := v.lookupVolumes(peer.Mounts); err != nil {
				return err
			}
			if e.via == "network" {
				// Its network namespace is what c gets: its networks
				// are c's (a macvlan peer puts c on the LAN).
				if peer.Networks, err = v.storedNetworks(info, "container "+e.target+", whose network namespace is joined"); err != nil {
					return err
				}
			}
			c.Peers = append(c.Peers, Peer{Via: e.via, Target: e.target, Through: append([]string{}, through...), Container: peer})
			if err := walk(peerEdges(peer), e.via, append(through, e.target)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(peerEdges(c), "", nil); err != nil {
		return err
	}
	sortedPeers(c.Peers)
	return nil
}

// lookupVolumes finds named volumes that already exist and reach host
// paths: `docker volume create --opt type=none --opt o=bind --opt
// device=/` followed by `-v vol:/mnt` (B7), and the other local volumes
// that reach host storage (volumeHostPaths). An existing volume's own
// options win over the request's, as in the daemon. It resolves the host
// paths of the mounts it changes, so any view can call it after
// containerView: a service's mounts (views.service) the same way as a
// peer's.
func (v *views) lookupVolumes(mounts []Mount) error {
	for i := range mounts {
		m := &mounts[i]
		if m.Type != "volume" || m.Source == "" {
			continue
		}
		driver, opts, err := v.lookup().Volume(v.ctx, m.Source)
		if errors.Is(err, ErrNotFound) {
			continue // created by this request, with the request's options
		}
		if err != nil {
			v.unknown("volume "+m.Source, err)
			continue
		}
		m.VolumeDriver = driver
		m.VolumeOptions = map[string]string{}
		for k, val := range opts {
			m.VolumeOptions[k] = val
		}
		m.HostPath, m.HostPaths = "", hostPathsOf(volumeHostPaths(driver, opts))
		if err := v.resolveHostPaths(m); err != nil {
			return err
		}
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// Exec is a `docker exec` (POST /containers/{id}/exec).
type Exec struct {
	Container  string        `json:"container"`
	User       ContainerUser `json:"user"` // effective: the exec's, else the container's, else the image's
	Privileged bool          `json:"privileged"`
	EnvNames   []string      `json:"env_names"`
}

func (v *views) exec(in *Input, raw []byte) error {
	var req container.ExecCreateRequest
	if err := decodeJSON(raw, &req); err != nil {
		return denyf("exec body cannot be decoded as the daemon decodes it: %v", err)
	}
	e := &Exec{Container: v.rt.ID, User: parseUser(req.User), Privileged: req.Privileged, EnvNames: []string{}}
	for _, kv := range req.Env {
		e.EnvNames = append(e.EnvNames, EnvName(kv))
	}
	if err := v.execUser(e, req.User); err != nil {
		return err
	}
	req.Env = e.EnvNames
	in.Exec = e
	body, err := roundTrip(req)
	in.Body = body
	return err
}

// execUser sets the exec's effective user, as the daemon will: the exec's
// -u, else the container's Config.User. An empty Config.User is root: the
// daemon merged the image's USER into it at create (mergeAndVerifyConfig),
// so the image's USER today, whatever the tag now points to, is not it
// (issue 11 item 8). A name is resolved in the container's own image (its
// ImageID), as the daemon resolves it at exec time.
func (v *views) execUser(e *Exec, requested string) error {
	if requested != "" && (e.User.UID != nil || e.User.Name == "root") {
		return nil
	}
	info, err := v.lookup().Container(v.ctx, v.rt.ID)
	if errors.Is(err, ErrNotFound) {
		return nil // no such container: the daemon refuses the exec
	}
	if err != nil {
		v.unknown(fmt.Sprintf("the user of container %s", v.rt.ID), err)
		return nil
	}
	if requested == "" {
		if info.Config == nil {
			return denyf("container %q has no configuration to take the exec's user from", v.rt.ID)
		}
		e.User = parseUser(info.Config.User)
		e.User.Source = "container"
		if info.Config.User == "" {
			root := 0
			e.User.UID = &root
			return nil
		}
	}
	if e.User.UID != nil || e.User.Name == "root" {
		return nil
	}
	if info.ImageID == "" {
		return denyf("cannot tell which image container %q was created from, to resolve user %q", v.rt.ID, e.User.Name)
	}
	return v.resolveName(&e.User, info.ImageID)
}

// Update is a `docker update` (POST /containers/{id}/update). Resources
// is the request: zero means "unchanged" for every field but PidsLimit,
// where null does. Effective is what the container will have after it:
// the container's limits as its creator asked for them, with the update
// merged over them as the daemon merges it (issue 11 item 13).
type Update struct {
	Container string    `json:"container"`
	Resources Resources `json:"resources"`
	Effective Resources `json:"effective"`
}

func (v *views) update(in *Input, raw []byte) error {
	var req container.UpdateConfig
	if err := decodeJSON(raw, &req); err != nil {
		return denyf("update body cannot be decoded as the daemon decodes it: %v", err)
	}
	u := &Update{Container: v.rt.ID, Resources: Resources{
		Memory: req.Memory, MemorySwap: req.MemorySwap, NanoCPUs: req.NanoCPUs, CPUQuota: req.CPUQuota,
		CPUPeriod: req.CPUPeriod, PidsLimit: req.PidsLimit, OomKillDisable: req.OomKillDisable, CgroupParent: req.CgroupParent,
	}}
	info, err := v.lookup().Container(v.ctx, v.rt.ID)
	if errors.Is(err, ErrNotFound) {
		return denyf("container %q does not exist, so the limits after the update cannot be known", v.rt.ID)
	}
	if err != nil {
		// The limits after the update are the request's alone.
		v.unknown(fmt.Sprintf("the limits of container %s", v.rt.ID), err)
		info.HostConfig = nil
	}
	u.Effective = mergeUpdate(info.HostConfig, u.Resources)
	in.Update = u
	body, err := roundTrip(req)
	in.Body = body
	return err
}

// mergeUpdate is the container's limits after an update, merged as the
// daemon does (daemon/container UpdateContainer): a field set to zero is
// left as it was; PidsLimit is replaced when sent (0 or -1: unlimited).
// OomKillDisable and CgroupParent are not changed by an update.
func mergeUpdate(hc *container.HostConfig, r Resources) Resources {
	var cur Resources
	if hc != nil {
		cur = Resources{Memory: hc.Memory, MemorySwap: hc.MemorySwap, NanoCPUs: hc.NanoCPUs, CPUQuota: hc.CPUQuota,
			CPUPeriod: hc.CPUPeriod, PidsLimit: hc.PidsLimit, OomKillDisable: hc.OomKillDisable, CgroupParent: hc.CgroupParent}
	}
	set := func(dst *int64, v int64) {
		if v != 0 {
			*dst = v
		}
	}
	set(&cur.Memory, r.Memory)
	set(&cur.MemorySwap, r.MemorySwap)
	set(&cur.NanoCPUs, r.NanoCPUs)
	set(&cur.CPUQuota, r.CPUQuota)
	set(&cur.CPUPeriod, r.CPUPeriod)
	if r.PidsLimit != nil {
		p := *r.PidsLimit
		cur.PidsLimit = &p
	}
	return cur
}

// Volume is a `docker volume create` (POST /volumes/create).
type Volume struct {
	Name     string            `json:"name"`
	Driver   string            `json:"driver"`
	Options  map[string]string `json:"options"`
	HostPath string            `json:"host_path"` // the first host path a local volume reaches, cleaned
	Resolved string            `json:"resolved"`  // with symlinks resolved
	// HostPaths are all the host paths the volume reaches when mounted
	// (volumeHostPaths), each resolved ("" when relative).
	HostPaths []HostPath `json:"host_paths"`
	// Compose is the project and key of a volume Compose creates (its
	// labels), or absent: fixes are then spelt as Compose keys.
	Compose *Compose `json:"compose,omitempty"`
}

func (v *views) volume(in *Input, raw []byte) error {
	var req volume.CreateRequest
	if err := decodeJSON(raw, &req); err != nil {
		return denyf("volume create body cannot be decoded as the daemon decodes it: %v", err)
	}
	vol := &Volume{Name: req.Name, Driver: req.Driver, Options: req.DriverOpts, HostPaths: hostPathsOf(volumeHostPaths(req.Driver, req.DriverOpts)),
		Compose: ComposeObjectOf(req.Labels, ComposeVolumeLabel)}
	if vol.Options == nil {
		vol.Options = map[string]string{}
	}
	for i := range vol.HostPaths {
		hp := &vol.HostPaths[i]
		resolved, err := v.resolveHostPath(hp.HostPath)
		if err != nil {
			return denyf("cannot resolve host path %q of volume %q: %v", hp.HostPath, req.Name, err)
		}
		hp.Resolved = resolved
	}
	if len(vol.HostPaths) > 0 {
		vol.HostPath, vol.Resolved = vol.HostPaths[0].HostPath, vol.HostPaths[0].Resolved
	}
	in.Volume = vol
	body, err := roundTrip(req)
	in.Body = body
	return err
}

// Service is a swarm service create or update: its tasks' containers are
// in input.container, so the container rules apply to them (B11).
type Service struct {
	Name string `json:"name"`
	// Plugin is true for a service that runs a plugin rather than a
	// container (TaskTemplate.PluginSpec).
	Plugin bool `json:"plugin"`
	// Rollback is true for an update with ?rollback=previous: swarmkit runs
	// the service's PreviousSpec and ignores the body's spec, so the view
	// (name, plugin, container) is of the PreviousSpec, read from the
	// manager.
	Rollback bool `json:"rollback"`
}

func (v *views) service(in *Input, raw []byte) error {
	var spec swarm.ServiceSpec
	if err := decodeJSON(raw, &spec); err != nil {
		return denyf("service body cannot be decoded as the daemon decodes it: %v", err)
	}
	// The body for Rego, with Env values reduced to names; the view below
	// is built from the original (its env_names are names too).
	shown := spec
	if cs := spec.TaskTemplate.ContainerSpec; cs != nil && cs.Env != nil {
		csCopy := *cs
		csCopy.Env = make([]string, len(cs.Env))
		for i, kv := range cs.Env {
			csCopy.Env[i] = EnvName(kv)
		}
		shown.TaskTemplate.ContainerSpec = &csCopy
	}
	body, err := roundTrip(shown)
	if err != nil {
		return err
	}
	in.Body = body
	judged, judgedRaw := &spec, raw
	rollback := v.rt.Endpoint == "service.update" && v.rt.Query.Get("rollback") == "previous"
	if rollback {
		// daemon/cluster/services.go passes the rollback flag to
		// swarmkit, whose UpdateService then restores PreviousSpec.
		prev, prevRaw, err := v.previousSpec()
		if err != nil {
			return err
		}
		if prev == nil {
			// The lookup failed: nothing to judge but the rollback.
			in.Service = &Service{Name: spec.Name, Rollback: true}
			return nil
		}
		judged, judgedRaw = prev, prevRaw
	}
	in.Service = &Service{Name: judged.Name, Plugin: judged.TaskTemplate.PluginSpec != nil, Rollback: rollback}
	cs := judged.TaskTemplate.ContainerSpec
	if cs == nil && in.Service.Plugin {
		// A plugin service runs no container: service_no_plugin decides.
		return nil
	}
	if cs == nil {
		cs = &swarm.ContainerSpec{}
	}
	if !rollback {
		// A previous spec is what the daemon stored; a request is
		// stripped of fields its API version lacks before it is stored.
		csCopy := *cs
		cs = &csCopy
		resources, err := v.serviceAsStored(cs, judged.TaskTemplate.Resources)
		if err != nil {
			return err
		}
		specCopy := *judged
		specCopy.TaskTemplate.Resources = resources
		specCopy.TaskTemplate.ContainerSpec = cs
		judged = &specCopy
	}
	cfg, hc := serviceToContainer(judged, cs)
	// Lookups on this node: the image's user, and named volumes that
	// already exist here (a bind volume made with volume create).
	c, err := v.containerView(cfg, hc, judged.Name, true)
	if err != nil {
		return err
	}
	if c.ImageRef, err = v.imageRef(c.Image); err != nil {
		return err
	}
	if c.Networks, err = v.serviceNetworks(judged, judgedRaw); err != nil {
		return err
	}
	for _, n := range judged.TaskTemplate.Networks {
		addSysctls(c, endpointSysctls(n.DriverOpts))
	}
	// Swarm publishes through the routing mesh or on the host's
	// interfaces: never on loopback only.
	c.Ports = []Port{}
	if es := judged.EndpointSpec; es != nil {
		for _, p := range es.Ports {
			if p.PublishedPort == 0 && p.PublishMode != swarm.PortConfigPublishModeHost {
				continue
			}
			proto := string(p.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			c.Ports = append(c.Ports, Port{ContainerPort: strconv.Itoa(int(p.TargetPort)) + "/" + proto,
				HostPort: strconv.Itoa(int(p.PublishedPort))})
		}
	}
	if cs.Privileges != nil {
		if s := cs.Privileges.Seccomp; s != nil && s.Mode == swarm.SeccompModeUnconfined {
			c.Security.Seccomp = "unconfined"
		}
		if a := cs.Privileges.AppArmor; a != nil && a.Mode == swarm.AppArmorModeDisabled {
			c.Security.AppArmor = "unconfined"
		}
		if sl := cs.Privileges.SELinuxContext; sl != nil && sl.Disable {
			c.Security.Labels = append(c.Security.Labels, "disable")
		}
	}
	in.Container = c
	return nil
}

// serviceAsStored removes from a service request what the daemon drops
// before storing it (moby's adjustForAPIVersion, daemon/server/router/swarm):
// fields older API versions lack. A create sent as /v1.40 keeps its
// --cap-drop ALL in the body but runs with the default capabilities; on
// Engine 20.10 (API 1.41), whose types have no NoNewPrivileges for services,
// no-new-privileges is never set (the CLI speaks 1.41 to it). The version is
// the request's /vX.Y (a daemon refuses one above its own), or the engine's
// for a request without one.
func (v *views) serviceAsStored(cs *swarm.ContainerSpec, res *swarm.ResourceRequirements) (*swarm.ResourceRequirements, error) {
	version := v.rt.APIVersion
	if version == "" {
		// The daemon serves a request without /vX.Y at its own version
		// (the docker CLI always sends one, negotiated, so never above).
		engine, err := v.lookup().EngineAPIVersion(v.ctx)
		if err != nil {
			// Unknown: judged as the oldest API dockward knows, which
			// honours the fewest restrictions, and said so.
			v.unknown("the daemon's API version", err)
			engine = "1.24"
		}
		version = engine
	}
	if version == "" {
		return res, nil
	}
	if versions.LessThan(version, "1.40") {
		cs.Sysctls = nil
	}
	if versions.LessThan(version, "1.41") {
		cs.CapabilityAdd, cs.CapabilityDrop, cs.Ulimits = nil, nil, nil
		if res != nil && res.Limits != nil {
			r, l := *res, *res.Limits
			l.Pids = 0
			r.Limits = &l
			res = &r
		}
	}
	if versions.LessThan(version, "1.44") && cs.Privileges != nil {
		p := *cs.Privileges
		p.Seccomp, p.AppArmor, p.NoNewPrivileges = nil, nil, false
		cs.Privileges = &p
	}
	return res, nil
}

// previousSpec reads the spec a rollback restores. A service that cannot
// be looked up, or has no previous spec, is denied: the plugin cannot say
// what would run (and swarmkit refuses the latter anyway).
func (v *views) previousSpec() (*swarm.ServiceSpec, []byte, error) {
	info, err := v.lookup().Service(v.ctx, v.rt.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, denyf("rollback of service %q, which does not exist", v.rt.ID)
	}
	if err != nil {
		v.unknown(fmt.Sprintf("the spec service %s rolls back to", v.rt.ID), err)
		return nil, nil, nil
	}
	if info.PreviousSpec == nil {
		return nil, nil, denyf("rollback of service %q, which has no previous spec", v.rt.ID)
	}
	prev := *info.PreviousSpec
	raw := info.PreviousRaw
	if len(raw) == 0 {
		// A lookup without the daemon's own JSON (StaticLookup): the
		// typed spec is all there is.
		if raw, err = json.Marshal(prev); err != nil {
			return nil, nil, denyf("previous spec of service %q cannot be re-encoded: %v", v.rt.ID, err)
		}
	}
	return &prev, raw, nil
}

// serviceToContainer maps a task's ContainerSpec onto the container types,
// so one view (and one set of rules) covers both.
func serviceToContainer(spec *swarm.ServiceSpec, cs *swarm.ContainerSpec) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{Image: cs.Image, User: cs.User, Env: cs.Env}
	hc := &container.HostConfig{
		ReadonlyRootfs: cs.ReadOnly,
		CapAdd:         cs.CapabilityAdd,
		CapDrop:        cs.CapabilityDrop,
		Sysctls:        cs.Sysctls,
		Mounts:         append([]mount.Mount(nil), cs.Mounts...),
	}
	if cs.Privileges != nil && cs.Privileges.NoNewPrivileges {
		hc.SecurityOpt = []string{"no-new-privileges"}
	}
	if r := spec.TaskTemplate.Resources; r != nil {
		if l := r.Limits; l != nil {
			hc.Memory, hc.NanoCPUs = l.MemoryBytes, l.NanoCPUs
			pids := l.Pids // 0: unlimited
			hc.PidsLimit = &pids
		}
		if r.SwapBytes != nil {
			hc.MemorySwap = *r.SwapBytes
		}
	}
	for _, n := range spec.TaskTemplate.Networks {
		if strings.EqualFold(n.Target, "host") {
			hc.NetworkMode = "host"
		}
	}
	return cfg, hc
}

// roundTrip re-encodes a typed body with canonical field names for Rego.
func roundTrip(v any) (any, error) {
	out, err := canonicalJSON(v)
	if err != nil {
		return nil, denyf("body cannot be re-encoded: %v", err)
	}
	return out, nil
}

// sortedPeers keeps peers in a stable order.
func sortedPeers(p []Peer) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].Via != p[j].Via {
			return p[i].Via < p[j].Via
		}
		return p[i].Target < p[j].Target
	})
}
