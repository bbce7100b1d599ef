package input

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dockward/dockward/plugin/route"
)

// authSuffixGuard refuses a request whose raw URI ends in "/auth" on any
// route but POST /auth itself. Engines without the CVE-2024-41110 fix
// decide whether to forward the body to plugins on the raw RequestURI
// (strings.HasSuffix(uri, "/auth"), meant to keep registry passwords out
// of plugins): `POST /v1.23/containers/X/start?x=/auth` or
// `/containers/create?x=/auth` reaches the plugin bodiless while its
// handler still decodes the body. No client sends such a URI.
func authSuffixGuard(rt route.Route, rawURI string) error {
	if !strings.HasSuffix(rawURI, "/auth") || rt.Endpoint == "system.auth" {
		return nil
	}
	return denyf("%s %s: the request URI ends in \"/auth\", which makes engines without the CVE-2024-41110 fix "+
		"withhold the body from plugins while the daemon still reads it: send the request without that suffix",
		rt.Method, rt.Path)
}

// Archive is a `docker cp` into a container (PUT /containers/{id}/archive).
// The files it writes can change what the container's user means: with a
// user NAME, an /etc/passwd written into the container's rootfs maps that
// name to uid 0 at the next start (the daemon resolves it then; shown on
// both engines). A copy into a volume at /etc did not change it on 20.10
// (the daemon reads the rootfs copy), but the rule does not rely on that.
type Archive struct {
	Container string `json:"container"`
	Path      string `json:"path"` // the ?path= destination directory
	// User is the container's Config.User as the daemon stored it (the
	// image's USER already merged in at create: "" is root), parsed.
	User ContainerUser `json:"user"`
}

func (v *views) archivePut(in *Input) error {
	info, err := v.lookup().Container(v.ctx, v.rt.ID)
	if errors.Is(err, ErrNotFound) {
		return denyf("docker cp into container %q, which does not exist", v.rt.ID)
	}
	if err != nil {
		v.unknown(fmt.Sprintf("the user of container %s", v.rt.ID), err)
		return nil
	}
	if info.Config == nil {
		return denyf("the daemon returned no configuration for container %q", v.rt.ID)
	}
	a := &Archive{Container: v.rt.ID, Path: v.rt.Query.Get("path"), User: parseUser(info.Config.User)}
	a.User.Source = "container"
	in.Archive = a
	return nil
}
