package input

import "testing"

// TestNetworks: every network a request names is resolved on the daemon
// (by name, full id or id prefix) and shown with its driver and effective
// options; what cannot be resolved is refused.
func TestNetworks(t *testing.T) {
	t.Parallel()
	has := func(ns []Network, name, driver string) bool {
		for _, n := range ns {
			if n.Name == name && n.Driver == driver {
				return true
			}
		}
		return false
	}
	tests := []buildCase{
		{name: "create: NetworkMode by name", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"lan"}}`),
			check: func(in *Input) bool {
				return has(in.Container.Networks, "lan", "macvlan") && in.Container.Networks[0].Ref == "lan"
			}},
		{name: "create: NetworkMode by full id of the host network", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"hostnetid0123"}}`),
			check: func(in *Input) bool { return has(in.Container.Networks, "host", "host") }},
		{name: "create: NetworkMode by id prefix", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"lannet"}}`),
			check: func(in *Input) bool { return has(in.Container.Networks, "lan", "macvlan") }},
		{name: "create: EndpointsConfig keys", req: createReq(`{"Image":"busybox","User":"1","NetworkingConfig":{"EndpointsConfig":{"app":{},"routed":{}}}}`),
			check: func(in *Input) bool {
				return len(in.Container.Networks) == 2 && has(in.Container.Networks, "routed", "bridge")
			}},
		{name: "create: predefined modes need no lookup", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"bridge"}}`),
			check: func(in *Input) bool { return len(in.Container.Networks) == 0 }},
		// The reviewer's finds: a client-set NetworkID is what the daemon
		// attaches (moby getNetworkID), whatever network the key names.
		{name: "create: an endpoint's NetworkID is resolved too", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"app"},"NetworkingConfig":{"EndpointsConfig":{"app":{"NetworkID":"lannetid0123"}}}}`),
			check: func(in *Input) bool { return has(in.Container.Networks, "lan", "macvlan") }},
		{name: "connect: the endpoint's NetworkID is the network connected", req: post("/networks/app/connect", `{"Container":"web","EndpointConfig":{"NetworkID":"lannetid0123"}}`),
			check: func(in *Input) bool { return in.Network.Name == "lan" && in.Network.Driver == "macvlan" }},
		{name: "connect: endpoint sysctls are shown", req: post("/networks/app/connect", `{"Container":"web","EndpointConfig":{"DriverOpts":{"com.docker.network.endpoint.sysctls":"net.ipv4.conf.IFNAME.forwarding=1"}}}`),
			check: func(in *Input) bool { return in.Network.EndpointSysctls["net.ipv4.conf.IFNAME.forwarding"] == "1" }},
		{name: "create: endpoint sysctls are the container's sysctls", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"app"},"NetworkingConfig":{"EndpointsConfig":{"app":{"DriverOpts":{"com.docker.network.endpoint.sysctls":"net.ipv4.conf.IFNAME.forwarding=1"}}}}}`),
			check: func(in *Input) bool { return in.Container.Sysctls["net.ipv4.conf.IFNAME.forwarding"] == "1" }},
		{name: "start: the stored networks are resolved", req: post("/containers/onlan/start", ``),
			check: func(in *Input) bool { return has(in.Container.Networks, "lan", "macvlan") }},
		{name: "start: a stored NetworkID is resolved", req: post("/containers/byid/start", ``),
			check: func(in *Input) bool {
				return has(in.Container.Networks, "lan", "macvlan") && has(in.Container.Networks, "app", "bridge")
			}},
		{name: "create: joining a LAN container's network namespace shows its networks", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"container:onlan"}}`),
			check: func(in *Input) bool {
				return len(in.Container.Peers) == 1 && has(in.Container.Peers[0].Container.Networks, "lan", "macvlan")
			}},
		{name: "create: EndpointsConfig default is the NetworkMode", req: createReq(`{"Image":"busybox","User":"1","NetworkingConfig":{"EndpointsConfig":{"default":{}}}}`),
			check: func(in *Input) bool { return len(in.Container.Networks) == 0 }},
		{name: "create: an EndpointsConfig bridge is looked up (the current engine joins it beside NetworkMode)", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"app"},"NetworkingConfig":{"EndpointsConfig":{"app":{},"bridge":{}}}}`),
			check: func(in *Input) bool {
				return has(in.Container.Networks, "bridge", "bridge") && has(in.Container.Networks, "app", "bridge")
			}},
		{name: "create: EndpointsConfig host is looked up", req: createReq(`{"Image":"busybox","User":"1","NetworkingConfig":{"EndpointsConfig":{"host":{}}}}`),
			check: func(in *Input) bool { return has(in.Container.Networks, "host", "host") }},
		{name: "create: a config-from network's options are its config network's", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"fromcfg"}}`),
			check: func(in *Input) bool { return in.Container.Networks[0].Options["parent"] == "eth0" }},
		{name: "create: unknown network", req: createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"ghost"}}`), wantErr: `network "ghost", which does not exist`},
		{name: "network create", req: post("/networks/create", `{"Name":"n","Driver":"macvlan","Options":{"parent":"eth0"}}`),
			check: func(in *Input) bool {
				n := in.Network
				return n.Name == "n" && n.Driver == "macvlan" && n.Options["parent"] == "eth0"
			}},
		{name: "network create: default driver is bridge", req: post("/networks/create", `{"name":"n","options":{"com.docker.network.bridge.gateway_mode_ipv4":"routed"}}`),
			check: func(in *Input) bool {
				return in.Network.Driver == "bridge" && in.Network.Options["com.docker.network.bridge.gateway_mode_ipv4"] == "routed"
			}},
		{name: "network create --config-from takes the config network's options", req: post("/networks/create", `{"Name":"n","Driver":"macvlan","ConfigFrom":{"Network":"cfg"}}`),
			check: func(in *Input) bool { return in.Network.ConfigFrom == "cfg" && in.Network.Options["parent"] == "eth0" }},
		{name: "network create --config-from an unknown network", req: post("/networks/create", `{"Name":"n","ConfigFrom":{"Network":"ghost"}}`), wantErr: "does not exist"},
		{name: "network create without a body (B1)", req: post("/networks/create", ``), wantErr: "without a JSON body"},
		{name: "network connect by id prefix", req: post("/networks/lannet/connect", `{"Container":"c"}`),
			check: func(in *Input) bool {
				return in.Network.Name == "lan" && in.Network.Driver == "macvlan" && in.Network.Ref == "lannet"
			}},
		{name: "network connect to an unknown network", req: post("/networks/ghost/connect", `{"Container":"c"}`), wantErr: "does not exist"},
		{name: "network connect without a body", req: post("/networks/lan/connect", ``), wantErr: "without a JSON body"},
		{name: "service: task networks by id", req: post("/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1"},"Networks":[{"Target":"hostnetid0123"}]}}`),
			check: func(in *Input) bool { return has(in.Container.Networks, "host", "host") }},
		{name: "service: legacy top-level Networks (20.10)", req: post("/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1"}},"networks":[{"Target":"lan"}]}`),
			check: func(in *Input) bool { return has(in.Container.Networks, "lan", "macvlan") }},
		{name: "service: unknown network", req: post("/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1"},"Networks":[{"Target":"ghost"}]}}`), wantErr: "does not exist"},
		{name: "service: volume mounts are looked up (part of 12)", req: post("/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1","Mounts":[{"Type":"volume","Source":"etcvol","Target":"/m"}]}}}`),
			check: func(in *Input) bool { m := in.Container.Mounts[0]; return m.HostPath == "/etc" && m.Resolved == "/etc" }},
		{name: "rollback judges the previous spec, not the body", req: post("/services/svc/update?version=3&rollback=previous", `{"Name":"svc","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1000"}}}`),
			check: func(in *Input) bool {
				c := in.Container
				return in.Service.Rollback && c.User.Raw == "0" && c.Mounts[0].HostPath == "/" && c.EnvNames[0] == "T"
			}},
		{name: "an update that is not a rollback judges the body", req: post("/services/svc/update?version=3&rollback=none", `{"Name":"svc","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1000"}}}`),
			check: func(in *Input) bool { return !in.Service.Rollback && in.Container.User.Raw == "1000" }},
		{name: "rollback: the previous spec's legacy Networks as the daemon sent them", req: post("/services/legacy/update?rollback=previous", `{"Name":"legacy"}`),
			check: func(in *Input) bool { return has(in.Container.Networks, "host", "host") }},
		{name: "rollback of a service without a previous spec", req: post("/services/fresh/update?rollback=previous", `{}`), wantErr: "no previous spec"},
		{name: "rollback of an unknown service", req: post("/services/ghost/update?rollback=previous", `{}`), wantErr: "does not exist"},
	}
	runBuildCases(t, Builder{Lookup: lookupWorld, Resolver: mapResolver{}}, tests)
}
