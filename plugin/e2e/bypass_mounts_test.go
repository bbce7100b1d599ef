//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBypassB6B7HostPaths (B6, B7): with a temporary directory allowed as a
// host path (a live policy edit), a bind that only looks like it stays
// inside it — a symlink to /etc, "..", a symlink plus a path that does not
// exist yet — and the other doors to a host path (--mount, a volume with
// bind options, a named volume created with them, --volumes-from a
// container with a host bind) are all refused by host_mounts.
func TestBypassB6B7HostPaths(t *testing.T) { bypassB6B7(t, env(t), false) }

func bypassB6B7(t *testing.T, hs *harness, red bool) {
	dir := t.TempDir()
	outside := t.TempDir() // not allowed
	away := filepath.Join(dir, "away-link")
	safe := filepath.Join(dir, "safe")
	link := filepath.Join(dir, "etc-link")
	rel := filepath.Join(dir, "rel-link") // a relative symlink climbing out
	for _, err := range []error{
		os.Mkdir(safe, 0o755),
		os.Symlink("/etc", link),
		os.Symlink("../../../../../../../../etc", rel),
		os.Symlink(link, filepath.Join(safe, "chain")), // link to a link
		os.Symlink(outside, away),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	hs.editData(t, func(cfg map[string]any) {
		params, _ := cfg["params"].(map[string]any)
		params["allowed_host_paths"] = []any{dir}
	})

	// Objects that reach /etc, made while the policy let them through.
	var hostBound string
	t.Run("setup: a volume and a container that reach /etc, under a temporary policy edit", func(t *testing.T) {
		hs.setModes(t, "dryrun", "host_mounts", "volume_host_path")
		hs.mustDocker(t, "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=/etc", "dw-b7-etcvol")
		hostBound = hs.mustDocker(t, append(append([]string{"create", "--name", "dw-b7-hostbound", "--label", "dockward-e2e=bypass", "-v", "/etc:/hostetc:ro"}, hardened...), testImage, "sleep", "300")...)
	})
	t.Cleanup(func() {
		hs.docker(t, "rm", "-f", "dw-b7-hostbound")
		hs.docker(t, "volume", "rm", "-f", "dw-b7-etcvol")
	})
	_ = hostBound

	t.Run("control: a bind inside the allowed directory is allowed", func(t *testing.T) {
		if red {
			t.Skip("control")
		}
		hs.runAllowed(t, with(hardened, "-v", safe+":/mnt:ro"))
	})

	cases := []cliCase{
		{"B6 -v symlink to /etc", "host_mounts", with(hardened, "-v", link+":/mnt:ro")},
		{"B6 -v symlink to /etc, sub path", "host_mounts", with(hardened, "-v", link+"/ssl:/mnt:ro")},
		{"B6 -v relative symlink climbing to /etc", "host_mounts", with(hardened, "-v", rel+":/mnt:ro")},
		{"B6 -v symlink to a symlink to /etc", "host_mounts", with(hardened, "-v", filepath.Join(safe, "chain")+":/mnt:ro")},
		{"B6 -v through ..", "host_mounts", with(hardened, "-v", dir+"/safe/../../../../../../../etc:/mnt:ro")},
		// The daemon creates a missing bind source: point it at a
		// directory of ours that is not allowed, not at /etc.
		{"B6 -v symlink plus a path that does not exist yet", "host_mounts", with(hardened, "-v", away+"/not-yet/deeper:/mnt")},
		{"B7 --mount type=bind through the symlink", "host_mounts", with(hardened, "--mount", "type=bind,source="+link+",target=/mnt,readonly")},
		{"B7 --mount type=bind through ..", "host_mounts", with(hardened, "--mount", "type=bind,src="+safe+"/../../../../../../..,dst=/mnt")},
		{"B7 --mount type=volume with bind driver options", "host_mounts", with(hardened, "--mount", "type=volume,dst=/mnt,volume-driver=local,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc")},
		{"B7 --mount type=volume with bind options through the symlink", "host_mounts", with(hardened, "--mount", "type=volume,dst=/mnt,volume-opt=type=none,volume-opt=o=bind,volume-opt=device="+link)},
		{"B7 -v named volume created with o=bind device=/etc", "host_mounts", with(hardened, "-v", "dw-b7-etcvol:/mnt")},
		{"B7 --mount of the named bind volume", "host_mounts", with(hardened, "--mount", "type=volume,src=dw-b7-etcvol,dst=/mnt")},
		{"B7 --volumes-from a container with a host bind", "host_mounts", with(hardened, "--volumes-from", "dw-b7-hostbound")},
		{"B7 --volumes-from ...:ro", "host_mounts", with(hardened, "--volumes-from", "dw-b7-hostbound:ro")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hs.snap(t)
			o := hs.dockerO(t, runArgs(c.flags, "true")...)
			verdict(t, o, red, c.rule)
			if !red && strings.Contains(c.name, "symlink") && !strings.Contains(c.name, "not exist") && !strings.Contains(o.msg, "/etc") {
				t.Errorf("the refusal does not say the path reaches /etc:\n%v", o)
			}
			hs.settle(t, before, red)
			if _, err := os.Lstat(filepath.Join(outside, "not-yet")); err == nil && !red {
				t.Errorf("BYPASS: %s/not-yet was created", outside)
			}
		})
	}
}
