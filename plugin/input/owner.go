package input

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/network"

	"github.com/dockward/dockward/plugin/owner"
)

// Owner is who owns the objects a request acts on (owner_only): each
// object as the daemon resolves the request's reference (a name or an id
// prefix to the full id), with the user the ownership store records as its
// creator ("" = nobody: made before dockward, by the daemon, or its record
// was lost, which owner_only reads as admins only).
//
// It is built only for a request that carries a user (identity on: a TLS
// client CN): owner_only judges only those, and a request on the plain
// unix socket never pays for the lookups.
type Owner struct {
	Objects []OwnedObject `json:"objects"`
}

// OwnedObject is one object a request acts on.
type OwnedObject struct {
	Kind  string `json:"kind"`  // container, service, volume, network
	Ref   string `json:"ref"`   // as the request names it
	ID    string `json:"id"`    // the daemon's full id (a volume's name)
	Name  string `json:"name"`  // the daemon's name for it
	Owner string `json:"owner"` // "" = nobody
	// Role is "target" for the object the request acts on (it must be the
	// caller's), "attach" for a network a container is connected to or
	// disconnected from (one with an owner must be the caller's; a
	// network nobody owns, the predefined ones included, is shared).
	Role string `json:"role"`
	// Predefined is true for the daemon's own networks (bridge, host,
	// none): nobody's, and never recorded.
	Predefined bool `json:"predefined"`
	// OwnerFrom says where Owner comes from: "record" (the object's own),
	// "service" (a swarm task's container, which swarm makes inside the
	// daemon without a create anyone sees, belongs to the owner of its
	// service, com.docker.swarm.service.id), or "" for nobody.
	OwnerFrom string `json:"owner_from"`
}

// serviceLabel is the label swarm puts on a task's container.
const serviceLabel = "com.docker.swarm.service.id"

// ownerTargets maps each endpoint that acts on one object to its kind.
// Reads that only show state (inspect, top, stats, changes, list) are not
// here: the authz protocol cannot filter what they show anyway (README
// "Ownership").
var ownerTargets = map[string]string{
	"container.start": owner.Container, "container.stop": owner.Container, "container.restart": owner.Container,
	"container.kill": owner.Container, "container.pause": owner.Container, "container.unpause": owner.Container,
	"container.wait": owner.Container, "container.resize": owner.Container, "container.attach": owner.Container,
	"container.attach_ws": owner.Container, "container.logs": owner.Container, "container.export": owner.Container,
	"container.archive": owner.Container, "container.archive_stat": owner.Container, "container.archive_put": owner.Container,
	"container.copy": owner.Container, "container.exec": owner.Container, "container.rename": owner.Container,
	"container.update": owner.Container, "container.delete": owner.Container, "container.commit": owner.Container,
	"exec.start": owner.Container, "exec.resize": owner.Container,
	"network.connect": owner.Network, "network.disconnect": owner.Network, "network.delete": owner.Network,
	"volume.delete": owner.Volume, "volume.update": owner.Volume,
	"service.update": owner.Service, "service.delete": owner.Service, "service.logs": owner.Service,
	"task.logs": owner.Service, // a task's logs are its service's
}

// NeedsOwner reports whether the endpoint's decision depends on the
// ownership store (its decision must not be cached).
func NeedsOwner(endpoint string) bool { _, ok := ownerTargets[endpoint]; return ok }

// uses are the endpoints whose container (input.container) uses other
// objects: the networks it joins, the named volumes it mounts, the
// containers whose namespaces or volumes it takes. Each is an "attach"
// object: one someone else owns is refused, one nobody owns is shared.
var uses = map[string]bool{"container.create": true, "service.create": true, "service.update": true}

// addUsed adds the objects a container being created uses.
func (v *views) addUsed(o *Owner, c *Container) {
	for _, n := range c.Networks {
		if n.ID == "" {
			continue
		}
		rec, _, err := v.b.Owners.Lookup(owner.Network, n.ID)
		if err != nil {
			v.unknown(fmt.Sprintf("the owner of network %s", n.Name), err)
			continue
		}
		o.Objects = append(o.Objects, OwnedObject{Kind: owner.Network, Ref: n.Ref, ID: n.ID, Name: n.Name, Owner: rec.Owner,
			Role: "attach", Predefined: predefinedNetworks[n.Name] && n.Scope != "swarm", OwnerFrom: from(rec.Owner)})
		if n.Ref != "" && n.Ref != n.ID && !strings.HasPrefix(n.ID, n.Ref) && idLike(owner.Network, n.Ref) {
			v.addPrefixed(o, owner.Network, n.Ref, n.ID, "attach")
		}
	}
	seen := map[string]bool{}
	for _, m := range c.Mounts {
		if m.Type != "volume" || m.Source == "" || seen[m.Source] {
			continue
		}
		seen[m.Source] = true
		rec, found, err := v.b.Owners.Lookup(owner.Volume, m.Source)
		if err != nil {
			v.unknown(fmt.Sprintf("the owner of volume %s", m.Source), err)
			continue
		}
		if !found {
			continue // nobody's (shared), or made by this request
		}
		// A record of a volume that is gone is stale (volumes are
		// names): this request makes a new one.
		if _, _, err := v.lookup().Volume(v.ctx, m.Source); errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			v.unknown(fmt.Sprintf("volume %s whose owner the request needs", m.Source), err)
			continue
		}
		o.Objects = append(o.Objects, OwnedObject{Kind: owner.Volume, Ref: m.Source, ID: m.Source, Name: m.Source, Owner: rec.Owner,
			Role: "attach", OwnerFrom: "record"})
	}
	for _, p := range c.Peers {
		if len(p.Through) == 0 {
			v.addOwned(o, owner.Container, p.Target, "attach")
		}
	}
}

func from(o string) string {
	if o == "" {
		return ""
	}
	return "record"
}

// creates are the endpoints whose success makes an object with an owner.
var creates = map[string]bool{"container.create": true, "service.create": true, "volume.create": true, "network.create": true}

// predefinedNetworks are the networks the daemon makes itself.
var predefinedNetworks = map[string]bool{"bridge": true, "host": true, "none": true}

// owner builds in.Owner. A failed daemon lookup or store read is an
// unknown fact (denied, with every other violation); an object the daemon
// does not have is left out (the daemon answers 404).
func (v *views) owner(in *Input, raw []byte) error {
	if in.User.Name == "" || v.b.Owners == nil {
		return nil
	}
	if b, broken := v.b.Owners.(owner.Broken); broken && creates[v.rt.Endpoint] {
		// The new object's owner could not be recorded: it would exist
		// and belong to nobody. Refused now, with the reason.
		v.unknown("the ownership store the new object's owner is recorded in", b.Err)
		return nil
	}
	if uses[v.rt.Endpoint] && in.Container != nil {
		in.Owner = &Owner{Objects: []OwnedObject{}}
		v.addUsed(in.Owner, in.Container)
	}
	if v.rt.Endpoint == "build" {
		v.addBuildNetwork(in)
		return nil
	}
	kind, ok := ownerTargets[v.rt.Endpoint]
	if !ok {
		return nil
	}
	if in.Owner == nil {
		in.Owner = &Owner{Objects: []OwnedObject{}}
	}
	ref := v.rt.ID
	switch v.rt.Endpoint {
	case "container.commit":
		ref = v.rt.Query.Get("container")
	case "task.logs":
		id, err := v.lookup().Task(v.ctx, v.rt.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			v.unknown(fmt.Sprintf("the service of task %s", v.rt.ID), err)
			return nil
		}
		ref = id
	case "exec.start", "exec.resize":
		id, err := v.lookup().Exec(v.ctx, v.rt.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			v.unknown(fmt.Sprintf("the container of exec %s", v.rt.ID), err)
			return nil
		}
		ref = id
	case "network.connect", "network.disconnect":
		var c string
		if v.rt.Endpoint == "network.connect" {
			var req network.ConnectRequest
			if err := decodeJSON(raw, &req); err != nil {
				return denyf("network connect body cannot be decoded as the daemon decodes it: %v", err)
			}
			c = req.Container
			if in.Network != nil && in.Network.ID != "" {
				ref = in.Network.ID // the network the daemon connects to (views.networkConnect)
			}
		} else {
			var req network.DisconnectRequest
			if err := decodeJSON(raw, &req); err != nil {
				return denyf("network disconnect body cannot be decoded as the daemon decodes it: %v", err)
			}
			c = req.Container
		}
		v.addOwned(in.Owner, owner.Container, c, "target")
		v.addOwned(in.Owner, owner.Network, ref, "attach")
		return nil
	}
	role := "target"
	v.addOwned(in.Owner, kind, ref, role)
	return nil
}

// addOwned resolves ref as the daemon does and reads its owner.
func (v *views) addOwned(o *Owner, kind, ref, role string) {
	if ref == "" {
		return
	}
	obj := OwnedObject{Kind: kind, Ref: ref, Role: role}
	var err error
	var service string // a task container's service
	switch kind {
	case owner.Container:
		var c ContainerInfo
		if c, err = v.lookup().Container(v.ctx, ref); err == nil {
			obj.ID, obj.Name = c.ID, c.Name
			if c.Config != nil {
				service = c.Config.Labels[serviceLabel]
			}
		}
	case owner.Network:
		var n NetworkInfo
		if n, err = v.lookup().Network(v.ctx, ref); err == nil {
			obj.ID, obj.Name = n.ID, n.Name
			obj.Predefined = predefinedNetworks[n.Name] && n.Scope != "swarm"
		}
	case owner.Volume:
		if _, _, err = v.lookup().Volume(v.ctx, ref); err == nil {
			obj.ID, obj.Name = ref, ref
		}
	case owner.Service:
		var s ServiceInfo
		if s, err = v.lookup().Service(v.ctx, ref); err == nil {
			obj.ID, obj.Name = s.ID, s.Spec.Name
		}
	}
	if errors.Is(err, ErrNotFound) {
		return
	}
	if err != nil {
		v.unknown(fmt.Sprintf("the %s %s whose owner the request needs", kind, ref), err)
		return
	}
	if obj.ID == "" {
		v.unknown(fmt.Sprintf("the %s %s whose owner the request needs", kind, ref), errors.New("the daemon gave no id"))
		return
	}
	rec, _, err := v.b.Owners.Lookup(kind, obj.ID)
	if err != nil {
		v.unknown(fmt.Sprintf("the owner of %s %s", kind, ref), err)
		return
	}
	obj.Owner = rec.Owner
	if obj.Owner != "" {
		obj.OwnerFrom = "record"
	} else if service != "" {
		// Only when the container has no record of its own: one made
		// through the API with that label belongs to whoever made it.
		srec, _, err := v.b.Owners.Lookup(owner.Service, service)
		if err != nil {
			v.unknown(fmt.Sprintf("the owner of service %s (of container %s)", service, ref), err)
			return
		}
		if srec.Owner != "" {
			obj.Owner, obj.OwnerFrom = srec.Owner, "service"
		}
	}
	o.Objects = append(o.Objects, obj)
	if kind != owner.Volume && ref != obj.ID && !strings.HasPrefix(obj.ID, ref) && idLike(kind, ref) {
		v.addPrefixed(o, kind, ref, obj.ID, role)
	}
}

// addPrefixed adds, for a reference the daemon resolved by name, every
// other object whose id it is a prefix of: the daemon resolves a full id,
// then a name, then an id prefix, so once the named object is renamed or
// removed (by the caller, between this check and the handler) the same
// reference acts on the object with that prefix. Each must pass as the
// named one does; a user who names objects after someone else's id is
// told to use the full id.
func (v *views) addPrefixed(o *Owner, kind, ref, named, role string) {
	pl, ok := v.lookup().(PrefixLookup)
	if !ok {
		v.unknown(fmt.Sprintf("which %ss have an id starting with %s (the daemon's fallback for the name %s)", kind, ref, ref), errors.New("the lookup cannot list id prefixes"))
		return
	}
	ids, err := pl.IDsWithPrefix(v.ctx, kind, ref)
	if err != nil {
		v.unknown(fmt.Sprintf("which %ss have an id starting with %s (the daemon's fallback for the name %s)", kind, ref, ref), err)
		return
	}
	for _, id := range ids {
		if id == named {
			continue
		}
		n := len(o.Objects)
		v.addOwned(o, kind, id, role)
		for i := n; i < len(o.Objects); i++ {
			o.Objects[i].Ref = ref
		}
	}
}

// idLike reports whether ref could be an id prefix of kind: lowercase hex
// for containers (and local networks), lowercase base 36 for what swarm
// makes (services, overlay networks).
func idLike(kind, ref string) bool {
	digits := "0123456789abcdef"
	if kind != owner.Container {
		digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	}
	return ref != "" && strings.Trim(ref, digits) == ""
}

// addBuildNetwork adds what a build's RUN steps use: the classic builder
// (version=1) makes each step's container inside the daemon, with no
// create the plugin sees, and NetworkMode = the networkmode query
// (r.FormValue: the first value; every value is judged). container:<c>
// shares c's network namespace, a user-defined name joins that network.
func (v *views) addBuildNetwork(in *Input) {
	for _, mode := range v.rt.Query["networkmode"] {
		if in.Owner == nil {
			in.Owner = &Owner{Objects: []OwnedObject{}}
		}
		if target, ok := cutPrefixFold(mode, "container:"); ok {
			v.addOwned(in.Owner, owner.Container, target, "attach")
		} else if userDefinedNetwork(mode) {
			v.addOwned(in.Owner, owner.Network, mode, "attach")
		}
	}
}
