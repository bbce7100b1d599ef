package scan

import (
	"context"
	"io"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/policy"
)

type fakeDaemon struct {
	input.StaticLookup
	list []container.Summary
}

func (f fakeDaemon) Containers(context.Context, bool) ([]container.Summary, error) {
	return f.list, nil
}

// Container answers as daemon.Client does on a cgroup v1 daemon (every
// container reports cgroupns host): inspect data with the defaults taken out.
func (f fakeDaemon) Container(ctx context.Context, ref string) (input.ContainerInfo, error) {
	info, err := f.StaticLookup.Container(ctx, ref)
	if err != nil {
		return info, err
	}
	asked := input.AsRequested(*info.HostConfig, "host")
	info.HostConfig = &asked
	return info, nil
}

func TestRun(t *testing.T) {
	t.Parallel()
	pids := int64(100)
	hardened := container.CreateRequest{
		Config: &container.Config{Image: "busybox", User: "1000:1000", Env: []string{"TOKEN=hunter2"}},
		HostConfig: &container.HostConfig{
			ReadonlyRootfs: true, CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"},
			NetworkMode: "default", CgroupnsMode: "host",
			// What inspect reports for a default container: the daemon's
			// masked paths, which are not an override.
			MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"},
			Resources: container.Resources{Memory: 128 << 20, NanoCPUs: 500_000_000, PidsLimit: &pids},
		},
	}
	unconfined := hardened
	hc := *hardened.HostConfig
	hc.MaskedPaths, hc.ReadonlyPaths = []string{}, []string{}
	unconfined.HostConfig = &hc
	d := fakeDaemon{
		StaticLookup: input.StaticLookup{
			Images:     map[string]input.ImageInfo{"busybox": {ID: "sha256:bb"}},
			Containers: map[string]container.CreateRequest{"id-a": hardened, "id-b": {Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{Privileged: true}}, "id-c": unconfined, "id-x": {Config: &container.Config{Image: "busybox", Labels: map[string]string{"dockward.purpose": "read /etc/passwd to resolve a user name"}}, HostConfig: &container.HostConfig{Privileged: true}}},
		},
		list: []container.Summary{
			{ID: "id-b", Names: []string{"/legacy"}, State: "running"},
			{ID: "id-a", Names: []string{"/web"}, State: "running"},
			{ID: "id-c", Names: []string{"/sysadmin"}, State: "exited"},
			// A label (or name) any client can set does not hide a
			// container: this one claims to be a passwd helper.
			{ID: "id-x", Names: []string{"/dockward-passwd-0123"}, State: "running", Labels: map[string]string{"dockward.purpose": "read /etc/passwd to resolve a user name"}},
			// Listed, then removed before the inspect: skipped, not an error.
			{ID: "id-gone", Names: []string{"/gone"}, State: "exited"},
		},
	}
	c, err := policy.Load(t.Context(), "../../policies")
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	plugin := authz.New(t.Context(), policy.NewEngine(c), input.Builder{Lookup: d}, nil, log, authz.Options{})
	findings, err := Run(t.Context(), d, plugin, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range findings {
		got[f.Name] = f.Result.Decision.Allow
	}
	want := map[string]bool{"web": true, "legacy": false, "sysadmin": false, "dockward-passwd-0123": false}
	if len(got) != len(want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	for name, allow := range want {
		if got[name] != allow {
			t.Errorf("%s: allow=%v, want %v", name, got[name], allow)
		}
	}
	if findings[0].Name != "dockward-passwd-0123" || findings[1].Name != "legacy" {
		t.Errorf("not sorted by name: %s first", findings[0].Name)
	}
	for _, f := range findings {
		if f.Name == "sysadmin" {
			ids := map[string]bool{}
			for _, v := range f.Result.Decision.Violations {
				ids[v.ID] = true
			}
			if !ids["no_unconfined_profiles"] || len(ids) != 1 {
				t.Errorf("sysadmin violations %v, want only no_unconfined_profiles", ids)
			}
		}
	}
}
