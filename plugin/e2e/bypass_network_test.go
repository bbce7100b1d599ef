//go:build e2e

package e2e

import (
	"net"
	"os/exec"
	"strings"
	"testing"
)

// vethParent makes the veth pair dwb0/dwb1 (macvlan needs a parent link;
// dummy and vlan links do not exist in these sandboxes), removed at t's
// cleanup.
func vethParent(t *testing.T) string {
	t.Helper()
	if _, err := net.InterfaceByName("dwb0"); err != nil {
		if out, err := exec.Command("ip", "link", "add", "dwb0", "type", "veth", "peer", "name", "dwb1").CombinedOutput(); err != nil {
			t.Fatalf("ip link add dwb0: %v %s", err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "link", "del", "dwb0").CombinedOutput(); err != nil {
				t.Errorf("ip link del dwb0: %v %s", err, out)
			}
		})
	}
	if out, err := exec.Command("ip", "link", "set", "dwb0", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set dwb0 up: %v %s", err, out)
	}
	return "dwb0"
}

// networksOf is the names of the networks a container is attached to, as
// the daemon has them.
func (hs *harness) networksOf(t *testing.T, id string) string {
	t.Helper()
	return strings.TrimSpace(hs.mustDocker(t, "inspect", "--format",
		"{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", id))
}

// TestBypassNetworks (issue 11 item 2): networks that skip port
// publishing. A macvlan network, or a bridge whose gateway mode is routed
// or nat-unprotected or that trusts host interfaces, makes its containers
// reachable from the LAN on every port without -p. Creating one is refused,
// and joining one made while the policy allowed it is refused however it
// is named (name, full id, id prefix), at create and at network connect.
// The host network named by its id is the host's namespace.
func TestBypassNetworks(t *testing.T) { bypassNetworks(t, env(t), false) }

func bypassNetworks(t *testing.T, hs *harness, red bool) {
	parent := vethParent(t)
	const rule = "network_behind_host"

	t.Run("control: a plain bridge network is allowed", func(t *testing.T) {
		if red {
			t.Skip("control")
		}
		o := hs.dockerO(t, "network", "create", "dw-net-ok")
		if !o.succeeded() {
			t.Fatalf("a plain bridge network was refused: %v", o)
		}
		hs.docker(t, "network", "rm", "dw-net-ok")
	})

	cases := []struct {
		name string
		args []string
	}{
		{"macvlan", []string{"-d", "macvlan", "-o", "parent=" + parent}},
		{"ipvlan", []string{"-d", "ipvlan", "-o", "parent=" + parent}},
		{"bridge, gateway_mode_ipv4=routed", []string{"-o", "com.docker.network.bridge.gateway_mode_ipv4=routed"}},
		{"bridge, gateway_mode_ipv4=nat-unprotected", []string{"-o", "com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected"}},
		{"bridge, gateway_mode_ipv6=routed", []string{"--ipv6", "--subnet", "fd00:d0b::/64", "-o", "com.docker.network.bridge.gateway_mode_ipv6=routed"}},
		{"bridge, trusted_host_interfaces", []string{"-o", "com.docker.network.bridge.trusted_host_interfaces=" + parent}},
		{"bridge on an existing host bridge (bridge.name)", []string{"-o", "com.docker.network.bridge.name=dwb-br0"}},
	}
	for _, c := range cases {
		t.Run("network create "+c.name, func(t *testing.T) {
			before := hs.snap(t)
			o := hs.dockerO(t, append(append([]string{"network", "create"}, c.args...), "dw-net-x")...)
			verdict(t, o, red, rule)
			if red {
				t.Logf("REPORT (%s, rule in dryrun): %v", hs.versions, o)
			}
			hs.settle(t, before, red)
		})
	}

	// --config-only then --config-from: the options come from the config
	// network, which the plugin reads from the daemon.
	t.Run("setup: a config-only network with a macvlan parent", func(t *testing.T) {
		hs.mustDocker(t, "network", "create", "--config-only", "-o", "parent="+parent, "dw-net-cfg")
	})
	t.Cleanup(func() { hs.docker(t, "network", "rm", "dw-net-cfg") })
	t.Run("setup: a config-only bridge network in routed mode", func(t *testing.T) {
		hs.setModes(t, "dryrun", rule)
		hs.mustDocker(t, "network", "create", "--config-only", "-o", "com.docker.network.bridge.gateway_mode_ipv4=routed", "dw-net-cfgr")
	})
	t.Cleanup(func() { hs.docker(t, "network", "rm", "dw-net-cfgr") })
	for _, c := range []struct{ name, driver, cfg string }{
		{"macvlan --config-from", "macvlan", "dw-net-cfg"},
		{"bridge --config-from a routed config", "bridge", "dw-net-cfgr"},
	} {
		t.Run("network create "+c.name, func(t *testing.T) {
			before := hs.snap(t)
			o := hs.dockerO(t, "network", "create", "-d", c.driver, "--config-from", c.cfg, "dw-net-x")
			verdict(t, o, red, rule)
			hs.settle(t, before, red)
		})
	}

	// A macvlan network made while the policy allowed it (an admin's, or
	// from before dockward): containers may not join it.
	var lanID string
	t.Run("setup: a macvlan network, under a temporary policy edit", func(t *testing.T) {
		hs.setModes(t, "dryrun", rule)
		lanID = strings.TrimSpace(hs.mustDocker(t, "network", "create", "-d", "macvlan", "-o", "parent="+parent, "dw-net-lan"))
	})
	t.Cleanup(func() { hs.docker(t, "network", "rm", "dw-net-lan") })
	if lanID == "" {
		t.Fatal("no macvlan network")
	}
	refs := map[string]string{"name": "dw-net-lan", "full id": lanID, "id prefix": lanID[:12]}
	for how, ref := range refs {
		t.Run("run --network macvlan by "+how, func(t *testing.T) {
			before := hs.snap(t)
			o := hs.dockerO(t, runArgs(with(hardened, "--network", ref), "true")...)
			verdict(t, o, red, rule)
			hs.settle(t, before, red)
		})
	}

	running := hs.compliantContainer(t, "dw-net-running", true)
	for how, ref := range refs {
		t.Run("network connect macvlan by "+how, func(t *testing.T) {
			o := hs.dockerO(t, "network", "connect", ref, running)
			verdict(t, o, red, rule)
			nets := hs.networksOf(t, running)
			if red {
				hs.docker(t, "network", "disconnect", "-f", "dw-net-lan", running)
				return
			}
			if strings.Contains(nets, "dw-net-lan") {
				t.Errorf("BYPASS: the container is on the macvlan network: %s", nets)
			}
		})
	}

	// The host network by id: NetworkMode is not "host", so the daemon
	// looks the network up, finds the host network and puts the container
	// in the host's network namespace.
	hostID := strings.TrimSpace(hs.mustDocker(t, "network", "inspect", "--format", "{{.Id}}", "host"))
	for how, ref := range map[string]string{"full id": hostID, "id prefix": hostID[:12]} {
		t.Run("run --network <host network "+how+">", func(t *testing.T) {
			before := hs.snap(t)
			o := hs.dockerO(t, append(append([]string{"create", "--label", "dockward-e2e=bypass"}, with(hardened, "--network", ref)...), testImage, "true")...)
			verdict(t, o, red, "no_host_namespaces")
			if red && o.succeeded() {
				lines := strings.Fields(o.msg)
				id := lines[len(lines)-1]
				t.Logf("REPORT (%s, bare): NetworkMode=%s networks=%s", hs.versions,
					hs.hostConfigField(t, id, "NetworkMode"), hs.networksOf(t, id))
			} else if red {
				t.Logf("REPORT (%s, bare): the daemon refuses it: %v", hs.versions, o)
			}
			hs.settle(t, before, red)
		})
	}
}
