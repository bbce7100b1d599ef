package policy

import (
	"reflect"
	"testing"
)

// The shipped policy library, tested as it ships: `go test ./...` runs every
// *_test.rego with OPA's tester, so one command tests Go and Rego.
const library = "../../policies"

// profileRules are the restricted profile's rule ids (docs: README.md):
// every rule directory under policies/authz/rules, sorted.
var profileRules = []string{
	"archive_named_user", "build_host_network", "cap_add_allowlist", "checkpoint_admin_only", "cpu_limit",
	"drop_all_caps", "exec_no_privileged", "exec_non_root_user", "host_mounts", "image_mint_admin_only",
	"image_pull_trusted", "image_tag_trusted", "loopback_ports", "memory_limit", "network_behind_host",
	"no_annotations", "no_buildkit_session", "no_cgroup_parent", "no_devices", "no_host_namespaces",
	"no_new_privileges", "no_oom_kill_disable", "no_privileged", "no_unconfined_profiles", "no_unsafe_sysctls",
	"no_unsafe_ulimits", "non_root_user", "owner_only", "pids_limit", "plugin_admin_only", "read_only_rootfs",
	"request_lookup_failed", "request_unknown_write_route", "service_no_plugin", "start_api_version",
	"start_no_body", "swarm_admin_only", "trusted_images", "update_limits", "volume_host_path",
}

func TestLibraryRegoTests(t *testing.T) {
	t.Parallel()
	results, err := RunTests(t.Context(), library)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 2*len(profileRules) {
		t.Fatalf("only %d Rego tests; every rule needs a test_allow_* and a test_deny_*", len(results))
	}
	for _, r := range results {
		if !r.Pass && !r.Skip {
			t.Errorf("FAIL %s (%s): %s", r.Name, r.Location, r.Err)
		}
	}
	t.Logf("%d Rego tests", len(results))
}

func TestLibraryLoads(t *testing.T) {
	t.Parallel()
	c, err := Load(t.Context(), library)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Rules, profileRules) {
		t.Errorf("rules = %v\nwant    %v", c.Rules, profileRules)
	}
}

// TestLibraryFormatted is `opa fmt --fail` for the shipped library.
func TestLibraryFormatted(t *testing.T) {
	t.Parallel()
	changed, err := Format(library, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range changed {
		t.Errorf("%s is not formatted (run: dockward policy fmt policies)", f)
	}
}
