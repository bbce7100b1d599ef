//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
)

// TestLookupCacheFollowsTheDaemon: the plugin keeps the daemon's answers
// (here for an hour: the harness runs it with --lookup-cache-ttl 1h), yet
// a request is judged on what the daemon holds now. An image's USER is
// the fact: the same `docker create` of the same tag is allowed while the
// tag names an image whose USER is app (uid 1000), refused the moment it
// names one that runs as root, and allowed again when it is moved back.
func TestLookupCacheFollowsTheDaemon(t *testing.T) {
	hs := env(t)
	if !strings.Contains(tailNoDebug(hs.pluginLog, 400), "following the daemon's events: lookups are cached") {
		t.Errorf("the plugin never followed the daemon's event stream (so it caches nothing):\n%s", tailNoDebug(hs.pluginLog, 20))
	}
	const app, tag = "dw-lc-app:1", "dw-lc:latest"
	buf, err := imageTar()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	imp := hs.dockerCmd(ctx, "import", "--change", "USER app", "-", app)
	imp.Stdin = buf
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", app, err, out)
	}
	t.Cleanup(func() { hs.docker(t, "rmi", "-f", app, tag) })
	noUser := without(hardened, "--user=1000:1000")
	create := func() result {
		return hs.docker(t, append(append([]string{"create", "--label", "dockward-e2e=lookupcache"}, noUser...), tag, "true")...)
	}
	allowed := func(step string) {
		t.Helper()
		r := create()
		if r.code != 0 {
			t.Fatalf("%s: the create was refused: %v", step, r)
		}
		hs.mustDocker(t, "rm", strings.TrimSpace(r.stdout))
	}

	hs.mustDocker(t, "tag", app, tag)
	allowed("tag names the USER app image")
	allowed("the same create again (answers kept)")

	// The tag moves to the busybox image, which sets no USER: root.
	hs.mustDocker(t, "tag", testImage, tag)
	d := expectDenied(t, create())
	if len(d.rules) != 1 || d.rules[0] != "non_root_user" {
		t.Errorf("the create after the tag moved: refused by %v, want non_root_user alone:\n%s", d.rules, d.stderr)
	}

	hs.mustDocker(t, "tag", app, tag)
	allowed("the tag moved back")
	hs.mustDocker(t, "rmi", tag)
	hs.mustDocker(t, "tag", testImage, tag)
	expectDenied(t, create())
}
