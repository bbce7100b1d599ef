//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"
)

// importTar imports a one-file image under name (allowed while image trust
// is off, the shipped default).
func (hs *harness) importTar(t *testing.T, name, marker string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "marker", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(marker))})
	_, _ = tw.Write([]byte(marker))
	_ = tw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := hs.dockerCmd(ctx, "import", "-", name)
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() { hs.docker(t, "rmi", "-f", name) })
}

// imageSet is the daemon's images as a sorted list of "repo:tag id".
func (hs *harness) imageSet(t *testing.T) string {
	t.Helper()
	lines := strings.Fields(strings.ReplaceAll(hs.mustDocker(t, "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}}@{{.ID}}"), "\n", " "))
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestImageTrust turns image trust on for the test image's repository and
// walks the front door and the back doors to a trusted name.
func TestImageTrust(t *testing.T) {
	hs := env(t)
	// Before trust is on: an untrusted name for the test image itself, and
	// a distinct image known only by an untrusted name.
	hs.mustDocker(t, "tag", testImage, "evil/app:1")
	t.Cleanup(func() { hs.docker(t, "rmi", "evil/app:1") })
	hs.importTar(t, "evil/only:1", "untrusted")
	shortTrusted := strings.TrimSpace(hs.mustDocker(t, "images", "-q", testImage))
	shortUntrusted := strings.TrimSpace(hs.mustDocker(t, "images", "-q", "evil/only:1"))
	if shortTrusted == "" || shortUntrusted == "" || shortTrusted == shortUntrusted {
		t.Fatalf("image ids %q %q", shortTrusted, shortUntrusted)
	}

	hs.editData(t, func(cfg map[string]any) {
		params := cfg["params"].(map[string]any)
		params["allowed_images"] = []string{"dockward-test", "registry.example.com/base/*"}
	})

	t.Run("a trusted image runs", func(t *testing.T) {
		hs.runAllowed(t, hardened)
	})
	t.Run("a short id resolving to a trusted name runs", func(t *testing.T) {
		id := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create"}, hardened...), shortTrusted, "true")...))
		hs.docker(t, "rm", "-f", id)
	})
	denied := []struct {
		name string
		rule string
		args []string
	}{
		{"an untrusted name", "trusted_images", append(append([]string{"create"}, hardened...), "evil/app:1", "true")},
		{"a short id known only by an untrusted name", "trusted_images", append(append([]string{"create"}, hardened...), shortUntrusted, "true")},
		{"tag an untrusted image into a trusted name", "image_tag_trusted", []string{"tag", "evil/only:1", "registry.example.com/base/app:1"}},
		{"pull from a registry outside the allowed set", "image_pull_trusted", []string{"pull", "registry.evil.example/app:1"}},
		{"docker import mints a local image", "image_mint_admin_only", []string{"import", "/dev/null", "registry.example.com/base/minted"}},
	}
	for _, tt := range denied {
		t.Run(tt.name, func(t *testing.T) {
			before := hs.containerCount(t)
			images := hs.imageSet(t)
			d := expectDenied(t, hs.docker(t, tt.args...))
			if len(d.rules) != 1 || d.rules[0] != tt.rule {
				t.Errorf("denied for %v, want [%s]", d.rules, tt.rule)
			}
			// (A --rm container of an earlier subtest may still be going away.)
			if after := hs.containerCount(t); after > before {
				t.Errorf("a denied request created a container: %d -> %d", before, after)
			}
			if now := hs.imageSet(t); now != images {
				t.Errorf("a denied request changed the images:\n%s\n->\n%s", images, now)
			}
		})
	}
	t.Run("docker load mints local images", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		save := hs.dockerCmd(ctx, "save", "evil/only:1")
		tarball, err := save.Output()
		if err != nil {
			t.Fatalf("docker save (a read, allowed): %v", err)
		}
		load := hs.dockerCmd(ctx, "load")
		load.Stdin = bytes.NewReader(tarball)
		out, err := load.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "[image_mint_admin_only]") {
			t.Fatalf("docker load: err %v, output:\n%s", err, out)
		}
	})
	t.Run("dryrun allows and audits", func(t *testing.T) {
		hs.editData(t, func(cfg map[string]any) {
			modes, _ := cfg["modes"].(map[string]any)
			if modes == nil {
				modes = map[string]any{}
			}
			modes["trusted_images"] = "dryrun"
			cfg["modes"] = modes
		})
		before := len(hs.auditRecords(t))
		id := strings.TrimSpace(hs.mustDocker(t, append(append([]string{"create"}, hardened...), "evil/app:1", "true")...))
		hs.docker(t, "rm", "-f", id)
		found := false
		for _, rec := range hs.auditRecords(t)[before:] {
			if rec.Decision == "dryrun-deny" && rec.has(rec.DryRun, "trusted_images") && rec.Image == "evil/app:1" {
				found = true
			}
		}
		if !found {
			t.Error("no dryrun-deny record for trusted_images")
		}
	})
}
