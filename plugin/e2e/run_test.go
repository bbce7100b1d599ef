//go:build e2e

package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// violationCount is how a policy denial starts; one rule may add several
// violations (systempaths=unconfined overrides two path lists).
var violationCount = regexp.MustCompile(`\d+ policy violations?:`)

func TestHardenedRunsAreAllowed(t *testing.T) {
	hs := env(t)
	port := freePort(t)
	tests := []struct {
		name  string
		flags []string
	}{
		{"hardened", hardened},
		{"cap-drop all lower case", replace(hardened, "--cap-drop", "--cap-drop", "all")},
		{"cap-add with CAP_ prefix", replace(hardened, "--cap-add", "--cap-add", "CAP_NET_RAW")},
		{"no-new-privileges:true", replace(hardened, "--security-opt", "--security-opt", "no-new-privileges:true")},
		{"loopback port", with(hardened, "-p", fmt.Sprintf("127.0.0.1:%d:80", port))},
		{"user by name mapped to uid 1000 in the image", replace(hardened, "--user", "--user", "app")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hs.containerCount(t)
			hs.runAllowed(t, tt.flags)
			if after := hs.containerCount(t); after != before {
				t.Errorf("containers: %d before, %d after a --rm run", before, after)
			}
		})
	}
}

// TestEachRuleDeniedAlone breaks one rule at a time, starting from the
// hardened run: the denial must name exactly that rule and create nothing.
func TestEachRuleDeniedAlone(t *testing.T) {
	hs := env(t)
	port := freePort(t)
	tests := []struct {
		name  string
		rule  string
		flags []string
	}{
		{"no --read-only", "read_only_rootfs", without(hardened, "--read-only")},
		{"no --cap-drop", "drop_all_caps", without(hardened, "--cap-drop")},
		{"--cap-add SYS_ADMIN", "cap_add_allowlist", with(hardened, "--cap-add", "SYS_ADMIN")},
		{"--user 0", "non_root_user", replace(hardened, "--user", "--user", "0")},
		{"--user root", "non_root_user", replace(hardened, "--user", "--user", "root")},
		{"--user 0:1000", "non_root_user", replace(hardened, "--user", "--user", "0:1000")},
		{"no --user, image runs as root", "non_root_user", without(hardened, "--user")},
		{"no no-new-privileges", "no_new_privileges", without(hardened, "--security-opt")},
		{"no-new-privileges=false", "no_new_privileges", replace(hardened, "--security-opt", "--security-opt", "no-new-privileges=false")},
		{"no --memory", "memory_limit", without(hardened, "--memory")},
		{"--memory 8g", "memory_limit", replace(hardened, "--memory", "--memory", "8g")},
		{"no --cpus", "cpu_limit", without(hardened, "--cpus")},
		{"no --pids-limit", "pids_limit", without(hardened, "--pids-limit")},
		{"--pids-limit -1", "pids_limit", replace(hardened, "--pids-limit", "--pids-limit=-1")},
		{"--privileged", "no_privileged", with(hardened, "--privileged")},
		{"--pid host", "no_host_namespaces", with(hardened, "--pid", "host")},
		{"--network host", "no_host_namespaces", with(hardened, "--network", "host")},
		{"--ipc host", "no_host_namespaces", with(hardened, "--ipc", "host")},
		{"seccomp=unconfined", "no_unconfined_profiles", with(hardened, "--security-opt", "seccomp=unconfined")},
		{"systempaths=unconfined", "no_unconfined_profiles", with(hardened, "--security-opt", "systempaths=unconfined")},
		{"--device /dev/null", "no_devices", with(hardened, "--device", "/dev/null")},
		{"-v /:/host", "host_mounts", with(hardened, "-v", "/:/host")},
		{"-v docker.sock", "host_mounts", with(hardened, "-v", "/var/run/docker.sock:/s")},
		{"-p on all interfaces", "loopback_ports", with(hardened, "-p", fmt.Sprintf("%d:80", port))},
		{"-P", "loopback_ports", with(hardened, "-P")},
		{"unsafe namespaced sysctl", "no_unsafe_sysctls", with(hardened, "--sysctl", "net.ipv4.ip_forward=1")},
		{"--cgroup-parent", "no_cgroup_parent", with(hardened, "--cgroup-parent", "foo")},
		{"--oom-kill-disable", "no_oom_kill_disable", with(hardened, "--oom-kill-disable")},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.rule] = true
		t.Run(tt.name, func(t *testing.T) {
			before := hs.containerCount(t)
			d := expectDenied(t, hs.docker(t, runArgs(tt.flags, "true")...))
			if !slices.Equal(d.rules, []string{tt.rule}) {
				t.Errorf("denied for %v, want exactly [%s]", d.rules, tt.rule)
			}
			if !violationCount.MatchString(d.stderr) {
				t.Errorf("the denial does not count its violations (%q):\n%s", violationCount, d.stderr)
			}
			if after := hs.containerCount(t); after != before {
				t.Errorf("a denied run created a container: %d before, %d after", before, after)
			}
		})
	}
	if len(covered) != 17 {
		t.Errorf("the table covers %d rules, the restricted profile has 17", len(covered))
	}
}

// TestDeniedCreateNamesEveryRule: several violations in one run are all
// reported, each with its id.
func TestDeniedCreateNamesEveryRule(t *testing.T) {
	hs := env(t)
	d := expectDenied(t, hs.docker(t, runArgs(nil, "true")...))
	for _, want := range []string{"read_only_rootfs", "drop_all_caps", "non_root_user", "no_new_privileges", "memory_limit", "cpu_limit", "pids_limit"} {
		if !slices.Contains(d.rules, want) {
			t.Errorf("a bare `docker run` denial does not name [%s]; named %s", want, strings.Join(d.rules, ", "))
		}
	}
}
