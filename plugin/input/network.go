package input

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/swarm"
)

// Network is a network as the daemon has it (a container create, a
// network connect or a service names it), or as a network create asks for
// it. A container on a network whose driver is not a NAT bridge behind the
// host (macvlan, ipvlan), or on a bridge whose gateway mode is routed or
// nat-unprotected, is reachable from the LAN on every port without -p:
// the network rules judge driver and options.
type Network struct {
	Ref        string `json:"ref"`  // as the request names it ("" for a create)
	ID         string `json:"id"`   // the daemon's id ("" for a create)
	Name       string `json:"name"` // the network's name
	Driver     string `json:"driver"`
	Scope      string `json:"scope"`
	Internal   bool   `json:"internal"`
	ConfigOnly bool   `json:"config_only"`
	// ConfigFrom names the config-only network whose options this one
	// takes (--config-from); "" when none.
	ConfigFrom string `json:"config_from"`
	// Options are the driver options in effect: a --config-from network's
	// come from its config-only network, as libnetwork copies them.
	Options map[string]string `json:"options"`
	// EndpointSysctls are, for a network connect, the interface sysctls
	// the endpoint asks for (endpointSysctlsOption); absent otherwise.
	EndpointSysctls map[string]string `json:"endpoint_sysctls,omitempty"`
	// Compose is the project and key of a network Compose creates (a
	// network.create's labels); absent otherwise.
	Compose *Compose `json:"compose,omitempty"`
}

func networkFromInfo(ref string, n NetworkInfo) Network {
	opts := map[string]string{}
	for k, v := range n.Options {
		opts[k] = v
	}
	return Network{Ref: ref, ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Internal: n.Internal,
		ConfigOnly: n.ConfigOnly, ConfigFrom: n.ConfigFrom, Options: opts}
}

// lookupNetwork resolves a network reference as the daemon resolves it
// (full id, then name, then id prefix: daemon FindNetwork and the network
// router's inspect agree on that order), with the options of its
// config-only network when it has one. Anything that cannot be resolved is
// denied: the plugin cannot say where the container would be reachable.
func (v *views) lookupNetwork(ref, via string) (Network, error) {
	info, err := v.lookup().Network(v.ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return Network{}, denyf("%s names network %q, which does not exist", via, ref)
	}
	if err != nil {
		// Driver unknown: no driver is allowed, so network rules deny.
		v.unknown(fmt.Sprintf("network %s (named by %s)", ref, via), err)
		return Network{Ref: ref, Name: ref, Options: map[string]string{}}, nil
	}
	n := networkFromInfo(ref, info)
	if n.ConfigFrom != "" {
		cfg, err := v.configOptions(n.ConfigFrom)
		if err != nil {
			return Network{}, err
		}
		n.Options = mergeOptions(cfg, n.Options)
	}
	return n, nil
}

// configOptions reads the options of the config-only network a network
// takes its configuration from.
func (v *views) configOptions(ref string) (map[string]string, error) {
	info, err := v.lookup().Network(v.ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return nil, denyf("config-from network %q does not exist", ref)
	}
	if err != nil {
		v.unknown("config-from network "+ref, err)
		return map[string]string{}, nil
	}
	return info.Options, nil
}

func mergeOptions(base, over map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// networkCreate is `docker network create` (POST /networks/create).
func (v *views) networkCreate(in *Input, raw []byte) error {
	var req network.CreateRequest
	if err := decodeJSON(raw, &req); err != nil {
		return denyf("network create body cannot be decoded as the daemon decodes it: %v", err)
	}
	n := Network{Name: req.Name, Driver: req.Driver, Scope: req.Scope, Internal: req.Internal, ConfigOnly: req.ConfigOnly,
		Options: mergeOptions(nil, req.Options), Compose: ComposeObjectOf(req.Labels, ComposeNetworkLabel)}
	if n.Driver == "" {
		n.Driver = "bridge" // the daemon's default driver
	}
	if req.ConfigFrom != nil && req.ConfigFrom.Network != "" {
		// The daemon refuses options next to --config-from; the config
		// network's options are what the new network gets.
		n.ConfigFrom = req.ConfigFrom.Network
		cfg, err := v.configOptions(n.ConfigFrom)
		if err != nil {
			return err
		}
		n.Options = mergeOptions(cfg, n.Options)
	}
	in.Network = &n
	body, err := roundTrip(req)
	in.Body = body
	return err
}

// networkConnect is `docker network connect` (POST /networks/{id}/connect):
// the network of the route, resolved on the daemon.
func (v *views) networkConnect(in *Input, raw []byte) error {
	var req network.ConnectRequest
	if err := decodeJSON(raw, &req); err != nil {
		return denyf("network connect body cannot be decoded as the daemon decodes it: %v", err)
	}
	ref := v.rt.ID
	if ep := req.EndpointConfig; ep != nil && ep.NetworkID != "" && userDefinedNetwork(ref) {
		// moby's getNetworkID: the daemon connects to the endpoint's
		// NetworkID, not the network of the path (no client sends one).
		ref = ep.NetworkID
	}
	n, err := v.lookupNetwork(ref, "network connect")
	if err != nil {
		return err
	}
	if ep := req.EndpointConfig; ep != nil {
		n.EndpointSysctls = endpointSysctls(ep.DriverOpts)
	}
	in.Network = &n
	body, err := roundTrip(req)
	in.Body = body
	return err
}

// userDefinedNetwork is moby's NetworkMode.IsUserDefined: anything but
// default, bridge, host, none and container:<id> names a network the
// daemon looks up (by id, name or id prefix).
func userDefinedNetwork(mode string) bool {
	switch mode {
	case "", "default", "bridge", "host", "none":
		return false
	}
	return !strings.HasPrefix(mode, "container:")
}

// containerNetworks resolves every network a container create names: a
// user-defined NetworkMode and each EndpointsConfig key (the daemon
// connects the container to all of them).
func (v *views) containerNetworks(mode string, nc *network.NetworkingConfig) ([]Network, error) {
	refs := map[string]bool{}
	if userDefinedNetwork(mode) {
		refs[mode] = true
	}
	if nc != nil {
		for ref := range nc.EndpointsConfig {
			// "default" (which the CLI sends for no --network) is the
			// container's NetworkMode, judged by it; every other key,
			// the default "bridge" and host included, is looked up: the
			// current engine connects the container to each (the
			// differential oracle saw NetworkMode lan with a bridge
			// endpoint join both).
			if ref != "default" {
				refs[ref] = true
			}
			// moby's getNetworkID: for a user-defined name the daemon
			// attaches by the endpoint's NetworkID when one is given,
			// whatever network the name is (no client sends one).
			if ep := nc.EndpointsConfig[ref]; ep != nil && ep.NetworkID != "" && userDefinedNetwork(ref) {
				refs[ep.NetworkID] = true
			}
		}
	}
	return v.resolveNetworks(refs, "the container")
}

// storedNetworks resolves the user-defined networks an existing container
// is configured on, as a start attaches them: by name, and by the stored
// NetworkID when there is one (getNetworkID). The built-in ones (bridge,
// none, host) are its network mode, judged as such: a daemon run with
// --bridge=none stores "bridge" for a default container and starts it
// without one.
func (v *views) storedNetworks(info ContainerInfo, via string) ([]Network, error) {
	refs := map[string]bool{}
	for _, n := range info.Networks {
		if !userDefinedNetwork(n.Name) {
			continue
		}
		refs[n.Name] = true
		if n.NetworkID != "" {
			refs[n.NetworkID] = true
		}
	}
	if hc := info.HostConfig; hc != nil && userDefinedNetwork(string(hc.NetworkMode)) {
		refs[string(hc.NetworkMode)] = true
	}
	return v.resolveNetworks(refs, via)
}

// endpointSysctlsOption is the endpoint driver option whose sysctls the
// daemon sets on the container's interface (API 1.46+):
// "net.ipv4.conf.IFNAME.forwarding=1,...".
const endpointSysctlsOption = "com.docker.network.endpoint.sysctls"

// endpointSysctls reads an endpoint's interface sysctls, name -> value
// (IFNAME as sent): they are sysctls like HostConfig.Sysctls, and
// no_unsafe_sysctls judges them.
func endpointSysctls(opts map[string]string) map[string]string {
	out := map[string]string{}
	raw, ok := opts[endpointSysctlsOption]
	if !ok {
		return out
	}
	for _, kv := range strings.Split(raw, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			out[k] = val
		}
	}
	return out
}

func (v *views) resolveNetworks(refs map[string]bool, via string) ([]Network, error) {
	out := []Network{}
	for _, ref := range sortedKeys(refs) {
		n, err := v.lookupNetwork(ref, via)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// serviceNetworks resolves the networks a service's tasks join: the task
// template's, and the legacy top-level ServiceSpec.Networks that today's
// API types dropped but 20.10's daemon still converts and swarmkit still
// honours (daemon/cluster/convert/service.go). A target is an id or name,
// resolved as the manager resolves it.
func (v *views) serviceNetworks(spec *swarm.ServiceSpec, raw []byte) ([]Network, error) {
	refs := map[string]bool{}
	for _, n := range spec.TaskTemplate.Networks {
		refs[n.Target] = true
	}
	legacy, err := legacyServiceNetworks(raw)
	if err != nil {
		return nil, err
	}
	for _, t := range legacy {
		refs[t] = true
	}
	return v.resolveNetworks(refs, "the service")
}

// legacyServiceNetworks decodes the top-level "Networks" of a service spec
// the way encoding/json would decode it into 20.10's ServiceSpec (any key
// case, last duplicate wins).
func legacyServiceNetworks(raw []byte) ([]string, error) {
	var legacy struct {
		Networks []swarm.NetworkAttachmentConfig
	}
	if err := decodeJSON(raw, &legacy); err != nil {
		return nil, denyf("service body cannot be decoded as the daemon decodes it: %v", err)
	}
	out := []string{}
	for _, n := range legacy.Networks {
		out = append(out, n.Target)
	}
	sort.Strings(out)
	return out, nil
}
