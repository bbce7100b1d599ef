//go:build e2e

package e2e

import (
	"net"
	"os/exec"
	"strings"
	"testing"
)

// TestBypassB11Swarm (B11, and B1's "services/create without a JSON
// Content-Type"): a service makes containers without /containers/create.
// Run under `flock /tmp/dw-swarm.lock`: one swarm at a time.
// The isolated daemon becomes a single-node swarm for the test (it runs
// with --iptables=false --bridge=none; if swarm init fails there the test
// fails with the daemon's error, or skips with DOCKWARD_E2E_ALLOW_SKIP=1).
// The swarm is left, and the docker_gwbridge interface it made is deleted,
// at cleanup.
func TestBypassB11Swarm(t *testing.T) {
	hs := env(t)
	_, hadBridge := net.InterfaceByName("docker_gwbridge")
	if hadBridge == nil {
		envSkip(t, "a docker_gwbridge interface exists already (another daemon's swarm?): not touching it")
	}
	// Swarm membership is admin-only (swarm_admin_only, TestBypassSwarmAdmin);
	// this test is about services, so it makes and leaves its swarm with
	// that rule in dryrun (restored after the leave at cleanup).
	hs.setModes(t, "dryrun", "swarm_admin_only")
	init := hs.dockerO(t, "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:0")
	t.Cleanup(func() {
		hs.docker(t, "service", "rm", "dw-b11-svc", "dw-b11-hard", "dw-b11-raw", "dw-b11-red")
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
		if init.byPlugin() {
			t.Fatalf("swarm init refused by dockward: %v", init)
		}
		envSkip(t, "swarm init fails on the isolated daemon: %v", init)
	}
	v := "/v" + hs.apiVersion(t)
	services := func(t *testing.T) string { return hs.mustDocker(t, "service", "ls", "-q") }

	t.Run("service create, not hardened", func(t *testing.T) {
		o := hs.dockerO(t, "service", "create", "--detach", "--name", "dw-b11-svc", testImage, "sleep", "300")
		expectRefused(t, o, "read_only_rootfs")
		for _, want := range []string{"read_only_rootfs", "drop_all_caps", "non_root_user", "memory_limit"} {
			if !strings.Contains(o.msg, "["+want+"]") {
				t.Errorf("the refusal does not name [%s]: %v", want, o)
			}
		}
		if s := services(t); s != "" {
			t.Errorf("BYPASS: services exist after a refused create: %s", s)
		}
	})

	hardSvc := []string{"service", "create", "--detach", "--name", "dw-b11-hard", "--read-only", "--user", "1000:1000", "--cap-drop", "ALL",
		"--cap-add", "NET_RAW", "--limit-memory", "128m", "--limit-cpu", "0.5", "--limit-pids", "100", "--mount", "type=tmpfs,dst=/tmp"}
	t.Run("service create, hardened with the CLI (report only)", func(t *testing.T) {
		o := hs.dockerO(t, append(hardSvc, testImage, "sleep", "1")...)
		if !o.succeeded() {
			t.Logf("REPORT: the hardened `docker service create` is not allowed (the %s CLI cannot set no-new-privileges on a service): %v", hs.versions, o)
		} else {
			t.Logf("REPORT: the hardened `docker service create` is allowed")
			hs.docker(t, "service", "rm", "dw-b11-hard")
		}
	})
	// The same service with no-new-privileges, which only the API can set.
	hardSpec := `{"Name":"dw-b11-hard","TaskTemplate":{"ContainerSpec":{"Image":"` + testImage + `","Command":["sleep","300"],"User":"1000:1000",` +
		`"ReadOnly":true,"CapabilityDrop":["ALL"],"CapabilityAdd":["NET_RAW"],"Privileges":{"NoNewPrivileges":true},` +
		`"Mounts":[{"Type":"tmpfs","Target":"/tmp"}]},"Resources":{"Limits":{"MemoryBytes":134217728,"NanoCPUs":500000000,"Pids":100}}}}`
	// The daemon drops Privileges.NoNewPrivileges from a service sent with
	// an API version below 1.44 (moby's adjustForAPIVersion; Engine 20.10
	// speaks 1.41 and has no such field), so there the task runs without
	// it and no service passes no_new_privileges: dockward judges the spec
	// as stored. Found by the differential oracle.
	t.Run("raw service create at API 1.41: NoNewPrivileges is dropped by the daemon, so refused", func(t *testing.T) {
		o := hs.raw(t, rawReq{method: "POST", uri: "/v1.41/services/create", ctype: "application/json",
			body: []byte(strings.Replace(hardSpec, "dw-b11-hard", "dw-b11-old", 1))})
		expectRefused(t, o, "no_new_privileges")
		if strings.Contains(hs.mustDocker(t, "service", "ls", "--format", "{{.Name}}"), "dw-b11-old") {
			t.Errorf("BYPASS: the service was created: %v", o)
		}
	})
	t.Run("red: with no_new_privileges in dryrun the API 1.41 create runs without it", func(t *testing.T) {
		hs.setModes(t, "dryrun", "no_new_privileges")
		o := hs.raw(t, rawReq{method: "POST", uri: "/v1.41/services/create", ctype: "application/json",
			body: []byte(strings.Replace(hardSpec, "dw-b11-hard", "dw-b11-old", 1))})
		verdict(t, o, true, "no_new_privileges")
		if !o.succeeded() {
			t.Fatalf("the create failed: %v", o)
		}
		defer hs.docker(t, "service", "rm", "dw-b11-old")
		stored := hs.raw(t, rawReq{method: "GET", uri: "/v1.41/services/dw-b11-old"}).msg
		if strings.Contains(stored, `"NoNewPrivileges":true`) {
			t.Errorf("the daemon kept NoNewPrivileges at API 1.41 (then dockward's reading is too strict): %s", stored)
		}
	})
	nnpHonoured := hs.engine == "current" // v is the engine's own API version
	if !nnpHonoured {
		// No service can set no-new-privileges here: the rest of the
		// suite judges the other rules.
		hs.setModes(t, "dryrun", "no_new_privileges")
	}
	var hardOK bool
	t.Run("raw service create, hardened with NoNewPrivileges, is allowed", func(t *testing.T) {
		o := hs.raw(t, rawReq{method: "POST", uri: v + "/services/create", ctype: "application/json", body: []byte(hardSpec)})
		hardOK = o.succeeded()
		if !hardOK {
			t.Errorf("a hardened service create was refused: %v", o)
		}
	})

	t.Run("service update --cap-add SYS_ADMIN", func(t *testing.T) {
		if !hardOK {
			t.Skip("no service to update (the hardened create was not allowed)")
		}
		spec := hs.mustDocker(t, "service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec}}", "dw-b11-hard")
		o := hs.dockerO(t, "service", "update", "--detach", "--cap-add", "SYS_ADMIN", "dw-b11-hard")
		expectRefused(t, o, "cap_add_allowlist")
		if now := hs.mustDocker(t, "service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec}}", "dw-b11-hard"); now != spec {
			t.Errorf("BYPASS: the service spec changed:\n%s\n->\n%s", spec, now)
		}
	})

	// B1: the service handler decodes the body whatever its Content-Type,
	// but the daemon forwards it to plugins only when it is JSON.
	privileged := `{"Name":"dw-b11-raw","TaskTemplate":{"ContainerSpec":{"Image":"` + testImage + `","Command":["sleep","300"],"User":"0","Privileges":{"NoNewPrivileges":false}}}}`
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		t.Run("raw service create, Content-Type "+ct, func(t *testing.T) {
			o := hs.raw(t, rawReq{method: "POST", uri: v + "/services/create", ctype: ct, body: []byte(privileged)})
			expectRefused(t, o)
			if s := services(t); strings.Contains(hs.mustDocker(t, "service", "ls", "--format", "{{.Name}}"), "dw-b11-raw") {
				t.Errorf("BYPASS: the service was created: %s", s)
			}
		})
	}
	t.Run("raw service create, JSON with lower-case keys", func(t *testing.T) {
		body := strings.NewReplacer(`"TaskTemplate"`, `"tasktemplate"`, `"ContainerSpec"`, `"containerspec"`).Replace(privileged)
		o := hs.raw(t, rawReq{method: "POST", uri: v + "/services/create", ctype: "application/json", body: []byte(body)})
		expectRefused(t, o, "non_root_user")
	})

	// Red: with the container rules in dryrun the same create goes through.
	t.Run("red: the non-hardened create passes with the rules in dryrun", func(t *testing.T) {
		hs.setModes(t, "dryrun", containerRules...)
		o := hs.dockerO(t, "service", "create", "--detach", "--name", "dw-b11-red", testImage, "sleep", "300")
		verdict(t, o, true, containerRules...)
		hs.docker(t, "service", "rm", "dw-b11-red")
	})
}

// containerRules are the 17 rules of the restricted profile for creates.
var containerRules = []string{"read_only_rootfs", "drop_all_caps", "cap_add_allowlist", "non_root_user", "no_new_privileges",
	"memory_limit", "cpu_limit", "pids_limit", "no_privileged", "no_host_namespaces", "no_unconfined_profiles", "no_devices",
	"host_mounts", "loopback_ports", "no_unsafe_sysctls", "no_cgroup_parent", "no_oom_kill_disable"}
