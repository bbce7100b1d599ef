package input

import (
	"errors"
	"fmt"
)

// start is POST /containers/{id}/start (and restart, which starts a stopped
// container): the container that will run is the one the daemon stored,
// whatever was checked when it was created. A container made before the
// plugin, while a rule was in dryrun, or under an exemption since expired
// is judged again here, with the container rules, as input.container (the
// same view as a create: the configuration as its creator asked for it,
// daemon defaults taken out, see AsRequested).
//
// Two things differ from a create. The daemon merged the image's USER into
// Config.User at create, so an empty user is root, not "the image's
// default" (the image's tag may point elsewhere by now). And a user name
// resolves in the /etc/passwd of the container's own image (ImageID), as
// the runtime does at start.
func (v *views) start(in *Input, raw []byte, headers map[string]string) error {
	// The body as before (start_no_body judges it): old API versions read
	// a HostConfig from it.
	body, err := decodeGeneric(raw, contentType(headers))
	if err != nil {
		return err
	}
	in.Body = body
	info, err := v.lookup().Container(v.ctx, v.rt.ID)
	if errors.Is(err, ErrNotFound) {
		return denyf("%s of container %q, which does not exist", v.rt.Endpoint, v.rt.ID)
	}
	if err != nil {
		v.unknown(fmt.Sprintf("container %s, to check what it would run", v.rt.ID), err)
		return nil
	}
	if info.Config == nil || info.HostConfig == nil {
		return denyf("the daemon returned no configuration for container %q", v.rt.ID)
	}
	c, err := v.containerView(info.Config, info.HostConfig, info.Name, false)
	if err != nil {
		return err
	}
	// Named volumes as the daemon has them: a volume may bind a host path.
	if c.Mounts, err = v.mounts(info.Config, info.HostConfig, true); err != nil {
		return err
	}
	if err := v.lookupPeers(c); err != nil {
		return err
	}
	// The networks a start attaches, as stored (a NetworkID set by the
	// client included).
	if c.Networks, err = v.storedNetworks(info, "the container"); err != nil {
		return err
	}
	c.User.Source = "container"
	if info.Config.User == "" {
		root := 0
		c.User.UID = &root
	}
	if info.ImageID == "" {
		// Its user's name and its image's trust both hang on the id.
		return denyf("the daemon did not say which image container %q runs", v.rt.ID)
	}
	if err := v.resolveName(&c.User, info.ImageID); err != nil {
		return err
	}
	// The content that runs is the image id the container was created
	// from: image trust matches the names the daemon has for that id.
	if c.ImageRef, err = v.imageRef(info.ImageID); err != nil {
		return err
	}
	in.Container = c
	return nil
}
