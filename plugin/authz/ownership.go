package authz

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/owner"
)

// Ownership is recorded from AuthZRes: dockerd calls it after the handler
// ran, with the status and (for a single-write answer of up to 64 KiB) the
// body the client is about to get, and holds that answer until the plugin
// replies. So a create's owner is on disk (bbolt fsyncs each commit)
// before the client learns the new id.
//
// What AuthZRes answers:
//   - a create by a user that succeeded and was recorded: allow;
//   - a create whose record could not be written (store broken or full of
//     errors, an id the answer does not carry): Err. The object exists and
//     belongs to nobody (admins only), which is closed; the Err tells the
//     creator so now, with the id and the fix, rather than at their next
//     docker start or docker exec. This is the only AuthZRes dockward
//     refuses.
//   - everything else, deletes whose record could not be removed included
//     (a stale record of an id the daemon never reuses grants nothing):
//     allow.
//
// Some facts must be learned before the handler runs (a volume create is
// idempotent: was the volume already there? A delete by name: which id
// goes?). AuthZReq keeps them in pending, keyed by the request as dockerd
// sends it to both calls; a fact that is missing (the plugin restarted in
// between) records nothing, which is closed.

// pendingFact is what AuthZReq learned for the AuthZRes of one request.
type pendingFact struct {
	at        time.Time // when AuthZReq ran
	existed   bool      // volume.create: the volume was already there
	kind, id  string    // a delete: the object that goes
	unknownID bool      // a delete whose id could not be resolved
	// container.create: the named volumes it mounts that did not exist,
	// which the daemon creates with the container (docker run -v data:/x).
	volumes []string
}

const pendingTTL = time.Minute

func pendingKey(req authorization.Request) string {
	h := sha256.New()
	for _, s := range []string{req.User, req.RequestMethod, req.RequestURI} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(req.RequestBody)
	return string(h.Sum(nil))
}

// createKinds are the endpoints whose success makes an object.
var createKinds = map[string]string{
	"container.create": owner.Container, "service.create": owner.Service,
	"volume.create": owner.Volume, "network.create": owner.Network,
}

// deleteKinds are the endpoints whose success removes one object.
var deleteKinds = map[string]string{
	"container.delete": owner.Container, "service.delete": owner.Service,
	"volume.delete": owner.Volume, "network.delete": owner.Network,
}

// note keeps, after an allowed AuthZReq, what its AuthZRes will need.
func (p *Plugin) note(ctx context.Context, req authorization.Request, rt routeInfo, in *input.Input) {
	if p.owners() == nil || p.pending == nil {
		return
	}
	switch {
	case rt.endpoint == "container.create" && req.User != "" && in != nil && in.Container != nil:
		f := pendingFact{at: time.Now()}
		for _, m := range in.Container.Mounts {
			if m.Type != "volume" || m.Source == "" || slices.Contains(f.volumes, m.Source) {
				continue
			}
			// Any answer but "not found" (it exists, or the lookup
			// failed) leaves the volume unrecorded: nobody's.
			if _, _, err := p.lookup().Volume(ctx, m.Source); errors.Is(err, input.ErrNotFound) {
				f.volumes = append(f.volumes, m.Source)
			}
		}
		if len(f.volumes) > 0 {
			p.pending.Add(pendingKey(req), f)
		}
	case rt.endpoint == "volume.create" && req.User != "":
		f := pendingFact{at: time.Now()}
		if in != nil && in.Volume != nil && in.Volume.Name != "" {
			_, _, err := p.lookup().Volume(ctx, in.Volume.Name)
			switch {
			case errors.Is(err, input.ErrNotFound):
			case err != nil:
				// Unknown: recorded as existing, so it stays nobody's
				// rather than maybe taking someone's volume.
				f.existed = true
				p.log.WithFields(logrus.Fields{"volume": in.Volume.Name, "error": err.Error()}).Warn("cannot tell whether the volume exists; its create will not record an owner")
			default:
				f.existed = true
			}
		}
		p.pending.Add(pendingKey(req), f)
	case rt.endpoint == "service.create" || rt.endpoint == "service.update" || rt.endpoint == "container.create":
		// A service's tasks (swarm, inside the daemon) and an anonymous
		// caller's create make the named volumes they mount that do not
		// exist, and record no owner for them: a record left for a
		// volume of that name that is gone (removed on the raw socket,
		// a removal whose record could not be deleted) would hand the
		// new volume to its old owner.
		if in != nil && in.Container != nil {
			p.dropStaleVolumes(ctx, in.Container.Mounts)
		}
	case rt.endpoint == "volume.create" && in != nil && in.Volume != nil && in.Volume.Name != "":
		// An anonymous caller's volume create (a user's is case above).
		p.dropStaleVolumes(ctx, []input.Mount{{Type: "volume", Source: in.Volume.Name}})
	case deleteKinds[rt.endpoint] != "":
		kind := deleteKinds[rt.endpoint]
		f := pendingFact{at: time.Now(), kind: kind}
		if in != nil && in.Owner != nil {
			for _, o := range in.Owner.Objects {
				if o.Kind == kind && o.Role == "target" {
					f.id = o.ID
				}
			}
		}
		if f.id == "" && fullID(rt.id) {
			f.id = rt.id
		}
		if n, err := p.owners().Len(); f.id == "" && err == nil && n == 0 {
			// Nothing is recorded (identity was never on): no record
			// to clean, and no lookup on every docker rm.
			return
		}
		if f.id == "" {
			id, err := p.resolve(ctx, kind, rt.id)
			if err != nil {
				f.unknownID = true
			}
			f.id = id
		}
		if f.id != "" || f.unknownID {
			p.pending.Add(pendingKey(req), f)
		}
	}
}

// dropStaleVolumes deletes the records of named volumes that do not exist
// (an answer other than "not found" leaves the record: it may be live).
func (p *Plugin) dropStaleVolumes(ctx context.Context, mounts []input.Mount) {
	if n, err := p.owners().Len(); err != nil || n == 0 {
		return // nothing recorded (identity was never on): no lookups
	}
	for _, m := range mounts {
		if m.Type != "volume" || m.Source == "" {
			continue
		}
		if _, found, err := p.owners().Lookup(owner.Volume, m.Source); err != nil || !found {
			continue
		}
		if _, _, err := p.lookup().Volume(ctx, m.Source); !errors.Is(err, input.ErrNotFound) {
			continue
		}
		p.forget(owner.Volume, m.Source, logrus.Fields{"endpoint": "stale volume record"})
		p.log.WithField("volume", m.Source).Info("ownership record of a volume that is gone removed: the volume this request makes is nobody's")
	}
}

// resolve is the daemon's full id of a reference ("" when it has none).
func (p *Plugin) resolve(ctx context.Context, kind, ref string) (string, error) {
	var id string
	var err error
	switch kind {
	case owner.Container:
		var c input.ContainerInfo
		c, err = p.lookup().Container(ctx, ref)
		id = c.ID
	case owner.Network:
		var n input.NetworkInfo
		n, err = p.lookup().Network(ctx, ref)
		id = n.ID
	case owner.Service:
		var s input.ServiceInfo
		s, err = p.lookup().Service(ctx, ref)
		id = s.ID
	case owner.Volume:
		id = ref // volumes are their names
	}
	if errors.Is(err, input.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// AuthZRes records the owner of what a successful create made and forgets
// the owner of what a successful delete removed (see the top of this file
// for what it answers).
func (p *Plugin) AuthZRes(req authorization.Request) authorization.Response {
	// The write has run: what it changed is on the daemon now.
	p.written(req)
	if msg := p.recordOwnership(req); msg != "" {
		return authorization.Response{Err: msg}
	}
	return authorization.Response{Allow: true}
}

type routeInfo struct{ endpoint, id string }

func (p *Plugin) recordOwnership(req authorization.Request) (errMsg string) {
	store := p.owners()
	if store == nil || req.ResponseStatusCode < 200 || req.ResponseStatusCode > 299 {
		return ""
	}
	rt, err := input.Route(req)
	if err != nil {
		return ""
	}
	fields := logrus.Fields{"endpoint": rt.Endpoint, "user": req.User}
	if kind, ok := createKinds[rt.Endpoint]; ok {
		if req.User == "" {
			return "" // an anonymous caller's objects are nobody's
		}
		id := createdID(kind, req.ResponseBody)
		if id == "" {
			p.log.WithFields(fields).Error("OWNER NOT RECORDED: the daemon's answer to a create carries no id dockward can read; the object belongs to nobody (admins only)")
			return fmt.Sprintf("the %s was created, but dockward could not read its id from the daemon's answer, so its owner (%s) is not recorded and only admins may act on it: ask an admin to find it and run `dockward own %s <name> --user %s`",
				kind, req.User, kind, req.User)
		}
		fields["kind"], fields["id"] = kind, id
		policy, before := owner.KeepExisting, time.Time{}
		if kind == owner.Volume {
			f, ok := p.pending.Get(pendingKey(req))
			if !ok {
				p.log.WithFields(fields).Warn("volume create answered without its request's facts (plugin restarted?); no owner recorded: it belongs to nobody (admins only)")
				return ""
			}
			if f.existed {
				return "" // the daemon returned an existing volume: never take it
			}
			// It did not exist when the request came: a record made
			// before then is stale, one made since is a concurrent
			// create that won.
			policy, before = owner.ReplaceOlder, f.at
		}
		if _, err := store.Put(kind, id, req.User, policy, before); err != nil {
			fields["error"] = err.Error()
			p.log.WithFields(fields).Error("OWNER NOT RECORDED: the object belongs to nobody (admins only)")
			return fmt.Sprintf("the %s %s was created, but its owner could not be recorded (%v), so only admins may act on it: ask an admin to fix the ownership store and run `dockward own %s %s --user %s`, or to remove it",
				kind, short(id), err, kind, short(id), req.User)
		}
		p.log.WithFields(fields).Debug("owner recorded")
		if kind == owner.Container {
			// The named volumes the create made: recorded like a volume
			// create (a record older than the request is stale), but a
			// failure only leaves them nobody's: the container is the
			// object the client asked for.
			if f, ok := p.pending.Get(pendingKey(req)); ok {
				for _, name := range f.volumes {
					if _, err := store.Put(owner.Volume, name, req.User, owner.ReplaceOlder, f.at); err != nil {
						p.log.WithFields(fields).WithFields(logrus.Fields{"volume": name, "error": err.Error()}).
							Error("OWNER NOT RECORDED for a volume the create made: it belongs to nobody (admins only)")
					}
				}
			}
		}
		return ""
	}
	if kind, ok := deleteKinds[rt.Endpoint]; ok {
		f, ok := p.pending.Get(pendingKey(req))
		id := f.id
		if !ok && (kind == owner.Volume || fullID(rt.ID)) {
			id = rt.ID
		}
		if id == "" {
			p.log.WithFields(fields).Info("deleted object's id unknown; its ownership record (if any) stays, and grants nothing (ids are not reused)")
			return ""
		}
		p.forget(kind, id, fields)
		return ""
	}
	for kind, list := range map[string]string{"container.prune": "ContainersDeleted", "volume.prune": "VolumesDeleted"} {
		if rt.Endpoint != kind {
			continue
		}
		var report map[string]json.RawMessage
		var ids []string
		if json.Unmarshal(req.ResponseBody, &report) == nil {
			_ = json.Unmarshal(report[list], &ids)
		}
		k := owner.Container
		if kind == "volume.prune" {
			k = owner.Volume
		}
		for _, id := range ids {
			p.forget(k, id, fields)
		}
	}
	// network.prune reports names, and the networks are gone by now:
	// their records stay, keyed by ids the daemon never reuses.
	return ""
}

func (p *Plugin) forget(kind, id string, fields logrus.Fields) {
	if err := p.owners().Delete(kind, id); err != nil {
		p.log.WithFields(fields).WithFields(logrus.Fields{"kind": kind, "id": id, "error": err.Error()}).
			Warn("ownership record of a deleted object not removed (it grants nothing: ids are not reused)")
	}
}

// createdID reads the new object's id from a create's answer: container
// and network {"Id"}, service {"ID"}, volume {"Name"}. encoding/json
// matches keys case-insensitively, so one struct reads all three.
func createdID(kind string, body []byte) string {
	var r struct {
		ID   string `json:"Id"`
		Name string `json:"Name"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return ""
	}
	if kind == owner.Volume {
		return r.Name
	}
	return r.ID
}

func fullID(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

func short(id string) string {
	if len(id) > 12 && fullID(id) {
		return id[:12]
	}
	return id
}

func (p *Plugin) owners() owner.Owners { return p.builder.Owners }

func (p *Plugin) lookup() input.Lookup {
	if p.builder.Lookup == nil {
		return input.StaticLookup{}
	}
	return p.builder.Lookup
}
