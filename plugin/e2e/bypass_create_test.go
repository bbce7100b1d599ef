//go:build e2e

package e2e

import "testing"

// cliCase is one `docker run` that breaks exactly one rule in disguise.
type cliCase struct {
	name  string
	rule  string
	flags []string
}

// runCreateCases runs each case (docker run --rm ... true) and checks the
// refusal and that no container appeared.
func runCreateCases(t *testing.T, hs *harness, red bool, cases []cliCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hs.snap(t)
			verdict(t, hs.dockerO(t, runArgs(c.flags, "true")...), red, c.rule)
			hs.settle(t, before, red)
		})
	}
}

// TestBypassB13B14SecurityOpts (B13, B14): --security-opt in every form the
// daemon parses: systempaths=unconfined arrives as empty MaskedPaths and
// ReadonlyPaths, the colon separator, label disable, and a later
// no-new-privileges=false undoing an earlier no-new-privileges.
func TestBypassB13B14SecurityOpts(t *testing.T) { bypassB13B14(t, env(t), false) }

func bypassB13B14(t *testing.T, hs *harness, red bool) {
	runCreateCases(t, hs, red, []cliCase{
		{"B13 systempaths=unconfined", "no_unconfined_profiles", with(hardened, "--security-opt", "systempaths=unconfined")},
		{"B14 seccomp=unconfined", "no_unconfined_profiles", with(hardened, "--security-opt", "seccomp=unconfined")},
		{"B14 seccomp:unconfined (colon)", "no_unconfined_profiles", with(hardened, "--security-opt", "seccomp:unconfined")},
		{"B14 apparmor=unconfined", "no_unconfined_profiles", with(hardened, "--security-opt", "apparmor=unconfined")},
		{"B14 apparmor:unconfined (colon)", "no_unconfined_profiles", with(hardened, "--security-opt", "apparmor:unconfined")},
		{"B14 label=disable", "no_unconfined_profiles", with(hardened, "--security-opt", "label=disable")},
		{"B14 label:disable (colon)", "no_unconfined_profiles", with(hardened, "--security-opt", "label:disable")},
		{"B14 no-new-privileges=false after no-new-privileges", "no_new_privileges", with(hardened, "--security-opt", "no-new-privileges=false")},
		{"B14 no-new-privileges:false after no-new-privileges", "no_new_privileges", with(hardened, "--security-opt", "no-new-privileges:false")},
	})
}

// TestBypassB15RootInDisguise (B15): every spelling of uid 0, and no user at
// all with an image whose USER is root (the test image sets none).
func TestBypassB15RootInDisguise(t *testing.T) { bypassB15(t, env(t), false) }

func bypassB15(t *testing.T, hs *harness, red bool) {
	cases := []cliCase{{"no --user, image USER is root", "non_root_user", without(hardened, "--user")}}
	for _, u := range []string{"00", "+0", "0:1000", "root:root", "root", "000:0", "0", "-0"} {
		cases = append(cases, cliCase{"--user " + u, "non_root_user", replace(hardened, "--user", "--user="+u)})
	}
	runCreateCases(t, hs, red, cases)
	if !red {
		t.Run("--user app (uid 1000 in the image) is allowed", func(t *testing.T) {
			hs.runAllowed(t, replace(hardened, "--user", "--user=app"))
		})
	}
}
