//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestBypassB8JoinNamespaces (B8): joining the network, pid or ipc
// namespace of a container that is privileged or on host namespaces is as
// good as being it; no_host_namespaces looks the target up on the daemon.
// The targets are created while a live policy edit lets them through.
func TestBypassB8JoinNamespaces(t *testing.T) { bypassB8(t, env(t), false) }

func bypassB8(t *testing.T, hs *harness, red bool) {
	t.Run("setup: privileged and host-pid targets under a temporary policy edit", func(t *testing.T) {
		hs.setModes(t, "dryrun", "no_privileged", "no_host_namespaces")
		hs.mustDocker(t, append(append([]string{"create", "--name", "dw-b8-priv", "--label", "dockward-e2e=bypass", "--privileged"}, hardened...), testImage, "sleep", "300")...)
		hs.mustDocker(t, append(append([]string{"create", "--name", "dw-b8-hostpid", "--label", "dockward-e2e=bypass", "--pid", "host"}, hardened...), testImage, "sleep", "300")...)
	})
	t.Cleanup(func() { hs.docker(t, "rm", "-f", "dw-b8-priv", "dw-b8-hostpid") })
	good := hs.compliantContainer(t, "dw-b8-good", false)

	var cases []cliCase
	for _, target := range []string{"dw-b8-priv", "dw-b8-hostpid"} {
		for _, ns := range []string{"--network", "--pid", "--ipc"} {
			cases = append(cases, cliCase{ns + " container:" + target, "no_host_namespaces", with(hardened, ns, "container:"+target)})
		}
	}
	id := strings.TrimSpace(hs.mustDocker(t, "inspect", "--format", "{{.Id}}", "dw-b8-priv"))
	cases = append(cases, cliCase{"--pid container:<full id of the privileged target>", "no_host_namespaces", with(hardened, "--pid", "container:"+id)},
		cliCase{"--network container:<short id of the privileged target>", "no_host_namespaces", with(hardened, "--network", "container:"+id[:12])})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hs.snap(t)
			// create, not run: the targets are not running.
			verdict(t, hs.dockerO(t, append(append([]string{"create", "--label", "dockward-e2e=bypass"}, c.flags...), testImage, "true")...), red, c.rule)
			hs.settle(t, before, red)
		})
	}
	t.Run("joining a compliant container is allowed", func(t *testing.T) {
		if red {
			t.Skip("control")
		}
		for _, ns := range []string{"--network", "--ipc", "--pid"} {
			before := hs.snap(t)
			o := hs.dockerO(t, append(append([]string{"create"}, with(hardened, ns, "container:"+good)...), testImage, "true")...)
			if !o.succeeded() {
				t.Errorf("joining a compliant container was refused: %v\nthe target as the daemon stores it: SecurityOpt %s, CgroupnsMode %s, IpcMode %s",
					o, hs.hostConfigField(t, good, "SecurityOpt"), hs.hostConfigField(t, good, "CgroupnsMode"), hs.hostConfigField(t, good, "IpcMode"))
			}
			hs.removeNew(t, before)
		}
	})
}
