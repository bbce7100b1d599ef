package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The containers dockward creates to read an image's /etc/passwd carry
// this label and name prefix. Neither is a credential (any client can set
// them): scan judges such containers like any other, and the sweep removes
// only those that also were never started and have exactly the helper's
// configuration, so a faked marker costs nobody but its maker a container
// that never ran.
const (
	HelperLabel      = "dockward.purpose"
	HelperLabelValue = "read /etc/passwd to resolve a user name"
	HelperNamePrefix = "dockward-passwd-"
	helperUser       = "65534:65534"
)

// helperSpec is the configuration of a passwd helper: never started, and
// passing the restricted policy should it ever be judged.
func helperSpec(imageID string) client.ContainerCreateOptions {
	pids := int64(1)
	var b [8]byte
	_, _ = rand.Read(b[:])
	return client.ContainerCreateOptions{
		Name: HelperNamePrefix + hex.EncodeToString(b[:]),
		Config: &container.Config{Image: imageID, User: helperUser, Cmd: []string{"true"},
			Labels: map[string]string{HelperLabel: HelperLabelValue}},
		HostConfig: &container.HostConfig{
			ReadonlyRootfs: true, CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"},
			NetworkMode: "none",
			Resources:   container.Resources{Memory: 16 << 20, NanoCPUs: 100_000_000, PidsLimit: &pids},
		},
	}
}

// removeHelper removes a passwd helper within the decision's budget when
// some is left, so the helper is gone when the request is answered. Out of
// budget, the decision does not wait: the removal goes on in the background
// (and a crash before it ends leaves a helper that the next start sweeps).
func (c *Client) removeHelper(ctx context.Context, id string) {
	opts := client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}
	if ctx.Err() == nil {
		_, err := c.c.ContainerRemove(ctx, id, opts)
		if err == nil || cerrdefs.IsNotFound(err) {
			return
		}
	}
	go func() {
		rctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		_, _ = c.c.ContainerRemove(rctx, id, opts)
	}()
}

// isLeftoverHelper tells a passwd helper that outlived its lookup (the
// plugin crashed or was killed between create and remove) from anything
// else: the label with its exact value, the name prefix, the helper's own
// command, user and network, and never started.
func isLeftoverHelper(ct container.InspectResponse) bool {
	if ct.Config == nil || ct.HostConfig == nil || ct.State == nil {
		return false
	}
	neverStarted := ct.State.Status == container.StateCreated && !ct.State.Running &&
		(ct.State.StartedAt == "" || strings.HasPrefix(ct.State.StartedAt, "0001-01-01"))
	return neverStarted &&
		ct.Config.Labels[HelperLabel] == HelperLabelValue &&
		strings.HasPrefix(strings.TrimPrefix(ct.Name, "/"), HelperNamePrefix) &&
		slices.Equal(ct.Config.Cmd, []string{"true"}) &&
		ct.Config.User == helperUser &&
		string(ct.HostConfig.NetworkMode) == "none"
}

// SweepHelpers removes the passwd helpers a previous run left behind and
// returns their names. A helper must be never started (isLeftoverHelper);
// removal is not forced, so the daemon refuses to remove a container that
// started since it was inspected.
func (c *Client) SweepHelpers(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*c.timeout)
	defer cancel()
	list, err := c.c.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: client.Filters{}.Add("label", HelperLabel).Add("status", "created"),
	})
	if err != nil {
		return nil, fmt.Errorf("list passwd helpers: %w", err)
	}
	var removed []string
	for _, s := range list.Items {
		res, err := c.c.ContainerInspect(ctx, s.ID, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("inspect %s: %w", s.ID, err)
		}
		if !isLeftoverHelper(res.Container) {
			continue
		}
		if _, err := c.c.ContainerRemove(ctx, s.ID, client.ContainerRemoveOptions{RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return removed, fmt.Errorf("remove passwd helper %s: %w", res.Container.Name, err)
		}
		removed = append(removed, strings.TrimPrefix(res.Container.Name, "/"))
	}
	return removed, nil
}

// helperContext bounds create + copy of a passwd read by the caller's
// deadline (a decision's eval_timeout), or by three lookups without one.
func (c *Client) helperContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, 3*c.timeout)
}
