//go:build e2e

package e2e

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// knownServiceDivergences are the divergences TestDifferentialOracleServices
// finds in today's code (see knownDivergences).
var knownServiceDivergences = []knownDivergence{
	// None today. Those issue 11 found (items 11, 12) are fixed, and the one
	// the oracle found beyond it (20.10, and API < 1.44, drop a service's
	// Privileges.NoNewPrivileges) is judged as the daemon stores it
	// (input serviceAsStored).
}

// TestDifferentialOracleServices is the differential oracle for swarm
// services (issue 11 items 11, 12, 14): each service body is created on the
// bare daemon made a single-node swarm, and the task container the daemon
// runs for it (inspected, and its process read from /proc/self/status) is
// compared with dockward's input.container for the same request. It makes a
// swarm (and the docker_gwbridge interface): run it under
// `flock /tmp/dw-swarm.lock`. The swarm is left and the interface deleted
// at cleanup.
func TestDifferentialOracleServices(t *testing.T) {
	if _, err := net.InterfaceByName("docker_gwbridge"); err == nil {
		t.Skip("a docker_gwbridge interface exists already (another daemon's swarm?): not touching it")
	}
	start := time.Now()
	o := newOracle(t)
	hs := o.hs
	init := hs.dockerO(t, "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:0")
	t.Cleanup(func() {
		if r := hs.docker(t, "swarm", "leave", "--force"); r.code != 0 && !strings.Contains(r.stderr, "not part of a swarm") {
			t.Errorf("swarm leave: %v", r)
		}
		if _, err := net.InterfaceByName("docker_gwbridge"); err == nil {
			if out, err := exec.Command("ip", "link", "del", "docker_gwbridge").CombinedOutput(); err != nil {
				t.Errorf("ip link del docker_gwbridge: %v %s", err, out)
			}
		}
	})
	if !init.succeeded() {
		t.Skipf("swarm init fails on the bare daemon: %v", init)
	}
	hostNet := o.networkID(t, "host")
	for _, c := range o.serviceCorpus(hostNet) {
		t.Run(c.name, func(t *testing.T) { o.runService(t, c) })
	}
	o.judge(t, knownServiceDivergences)
	t.Logf("service oracle done in %s", time.Since(start).Round(time.Millisecond))
}

// serviceBody is a service create body running the probe as uid 1000 with
// the given ContainerSpec members, TaskTemplate members and top-level
// members.
func serviceBody(name, spec, task, top string) string {
	b := `{"Name":"` + name + `","TaskTemplate":{"ContainerSpec":{"Image":"{{img}}","User":"1000","Command":` + oracleProbeCmd
	if spec != "" {
		b += "," + spec
	}
	b += `},"RestartPolicy":{"Condition":"none"}`
	if task != "" {
		b += "," + task
	}
	b += "}"
	if top != "" {
		b += "," + top
	}
	return oracleExpand(b + "}")
}

func (o *oracle) serviceCorpus(hostNet string) []oracleCase {
	return []oracleCase{
		{name: "service plain", body: serviceBody("dwf-os-plain", "", "", "")},
		{name: "service host network by name", body: serviceBody("dwf-os-hostname", "", `"Networks":[{"Target":"host"}]`, "")},
		{name: "service host network by id (item 11)", body: serviceBody("dwf-os-hostid", "", `"Networks":[{"Target":"`+hostNet+`"}]`, "")},
		{name: "service host network by id prefix (item 11)", body: serviceBody("dwf-os-hostpfx", "", `"Networks":[{"Target":"`+hostNet[:12]+`"}]`, "")},
		{name: "service legacy top-level Networks host (item 11)", body: serviceBody("dwf-os-legacy", "", "", `"Networks":[{"Target":"host"}]`)},
		{name: "service bind mount /", body: serviceBody("dwf-os-bind", `"Mounts":[{"Type":"bind","Source":"/","Target":"/host","ReadOnly":true}]`, "", "")},
		{name: "service mount of the bind volume (item 12)", body: serviceBody("dwf-os-vol", `"Mounts":[{"Type":"volume","Source":"{{bindvol}}","Target":"/mnt","ReadOnly":true}]`, "", "")},
		{name: "service cap add", body: serviceBody("dwf-os-cap", `"CapabilityAdd":["CAP_SYS_PTRACE"]`, "", "")},
		{name: "service cap drop all", body: serviceBody("dwf-os-capdrop", `"CapabilityDrop":["ALL"],"CapabilityAdd":["NET_RAW"]`, "", "")},
		{name: "service no-new-privileges", body: serviceBody("dwf-os-nnp", `"Privileges":{"NoNewPrivileges":true}`, "", "")},
		{name: "service seccomp unconfined", body: serviceBody("dwf-os-seccomp", `"Privileges":{"Seccomp":{"Mode":"unconfined"}}`, "", "")},
		{name: "service user 0", body: strings.Replace(serviceBody("dwf-os-root", "", "", ""), `"User":"1000"`, `"User":"0"`, 1)},
		{name: "service user case-variant key", body: strings.Replace(serviceBody("dwf-os-ucase", "", "", ""), `"User":"1000"`, `"User":"1000","user":"0"`, 1)},
		{name: "service limits", body: serviceBody("dwf-os-limits", "", `"Resources":{"Limits":{"MemoryBytes":134217728,"NanoCPUs":500000000,"Pids":100}}`, "")},
		{name: "service sysctls", body: serviceBody("dwf-os-sysctl", `"Sysctls":{"net.ipv4.ip_forward":"1"}`, "", "")},
		{name: "service read-only", body: serviceBody("dwf-os-ro", `"ReadOnly":true`, "", "")},
		{name: "service host-mode port", body: serviceBody("dwf-os-port", "", "", `"EndpointSpec":{"Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":18080,"PublishMode":"host"}]}`)},
	}
}

func (o *oracle) runService(t *testing.T, c oracleCase) {
	o.ran[c.name] = true
	uri := o.api + "/services/create"
	in, verr := o.view("POST", uri, []byte(c.body))
	res := o.do(t, "POST", uri, []byte(c.body))
	if !res.succeeded() {
		t.Logf("the daemon refuses it (nothing created): %v", res)
		return
	}
	id := createdID(t, res)
	t.Cleanup(func() { o.hs.docker(t, "service", "rm", id) })
	if verr != nil {
		t.Logf("dockward refuses it before any rule (%v): conservative", verr)
		return
	}
	if in.Container == nil {
		t.Fatalf("no container view for a service")
	}
	// The task's container, once the daemon has made it.
	var ctr string
	for deadline := time.Now().Add(30 * time.Second); ctr == "" && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		ctr = strings.TrimSpace(o.hs.mustDocker(t, "ps", "-aq", "--no-trunc", "--filter", "label=com.docker.swarm.service.id="+id))
	}
	if ctr == "" {
		r := o.hs.docker(t, "service", "ps", "--no-trunc", id)
		t.Logf("no task container after 30s (the daemon could not run the task here): %s", strings.TrimSpace(r.stdout))
		return
	}
	ctr = strings.Fields(ctr)[0]
	d := o.inspect(t, ctr)
	o.compareContainer(t, c.name, d, in.Container)
	if st, err := o.procStatus(t, ctr); err != nil {
		t.Logf("no /proc/self/status from the task: %v", err)
	} else {
		o.compareRuntime(t, c.name, o.inspect(t, ctr), in.Container, st)
	}
}
