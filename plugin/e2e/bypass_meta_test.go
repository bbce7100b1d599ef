//go:build e2e

package e2e

import "testing"

// TestBypassGuardsCanTurnRed replays every bypass suite whose guard is a
// policy rule with those rules in dryrun (an edit of the running plugin's
// live policy copy, undone at the end): each request the suites refuse must
// then pass dockward, which shows that each suite fails when its guard is
// removed. Guards in Go code (missing, undecodable or legacy-shaped bodies:
// the "request denied:" refusals) cannot be switched off from the policy;
// the suites skip those cases here and say so. Swarm (B11) replays its own
// red case inline (it needs the swarm it sets up), and so does swarm
// membership (TestBypassSwarmAdmin, issue 11 item 1); users and exemptions
// assert both outcomes in the same test. request_unknown_write_route is
// not replayed: request_* guards cannot be put in dryrun (refused at load),
// and the daemon answers unknown routes 404 before asking any plugin;
// TestBypassUnknownWriteRoute asks the plugin directly instead.
func TestBypassGuardsCanTurnRed(t *testing.T) {
	hs := env(t)
	rules := append([]string{"exec_no_privileged", "exec_non_root_user", "update_limits", "start_no_body",
		"volume_host_path", "plugin_admin_only", "build_host_network", "no_annotations", "no_unsafe_ulimits", "network_behind_host",
		"start_api_version", "archive_named_user", "checkpoint_admin_only", "image_mint_admin_only"}, containerRules...)
	hs.setModes(t, "dryrun", rules...)
	suites := []struct {
		class string
		run   bypassSuite
	}{
		{"B1", bypassB1},
		{"B2", bypassB2},
		{"B3", bypassB3},
		{"B4", bypassB4},
		{"B5", bypassB5},
		{"B6B7", bypassB6B7},
		{"B7volume", bypassB7Volume},
		{"B8", bypassB8},
		{"B9", bypassB9},
		{"B10", bypassB10},
		{"B12", bypassB12},
		{"B13B14", bypassB13B14},
		{"B15", bypassB15},
		{"B16", bypassB16},
		{"view", bypassView},
		{"Networks", bypassNetworks},
		{"I11oldstart", bypassOldStart},
		{"I11archive", bypassArchive},
		{"I11checkpoints", bypassCheckpoints},
		{"I11startexisting", bypassStartExisting},
		{"I11buildtrust", bypassBuildTrust},
	}
	for _, s := range suites {
		t.Run(s.class, func(t *testing.T) { s.run(t, hs, true) })
	}
}
