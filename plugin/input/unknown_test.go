package input

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

// failingLookup answers like lookupWorld except that one kind of lookup
// fails, as a daemon that times out does.
type failingLookup struct {
	StaticLookup
	fail string
}

var errDaemonDown = errors.New("daemon did not answer")

func (f failingLookup) Image(ctx context.Context, ref string) (ImageInfo, error) {
	if f.fail == "image" {
		return ImageInfo{}, errDaemonDown
	}
	return f.StaticLookup.Image(ctx, ref)
}

func (f failingLookup) Container(ctx context.Context, ref string) (ContainerInfo, error) {
	if f.fail == "container" {
		return ContainerInfo{}, errDaemonDown
	}
	return f.StaticLookup.Container(ctx, ref)
}

func (f failingLookup) Volume(ctx context.Context, name string) (string, map[string]string, error) {
	if f.fail == "volume" {
		return "", nil, errDaemonDown
	}
	return f.StaticLookup.Volume(ctx, name)
}

func (f failingLookup) Network(ctx context.Context, ref string) (NetworkInfo, error) {
	if f.fail == "network" {
		return NetworkInfo{}, errDaemonDown
	}
	return f.StaticLookup.Network(ctx, ref)
}

func (f failingLookup) Service(ctx context.Context, ref string) (ServiceInfo, error) {
	if f.fail == "service" {
		return ServiceInfo{}, errDaemonDown
	}
	return f.StaticLookup.Service(ctx, ref)
}

func (f failingLookup) ImageUserID(ctx context.Context, id, name string) (int, error) {
	if f.fail == "passwd" {
		return 0, errDaemonDown
	}
	return f.StaticLookup.ImageUserID(ctx, id, name)
}

// TestFailedLookupIsUnknown: a lookup that fails (not "not found") leaves
// its fact unknown in the input (request_lookup_failed denies it, the
// plugin answers Err) instead of ending the build, so every other rule is
// still evaluated; issue 11, point 16.
func TestFailedLookupIsUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, fail string
		req        authorization.Request
		fact       string
	}{
		{"the image's user", "image", createReq(`{"Image":"busybox","HostConfig":{"Privileged":true}}`), "the user of image busybox"},
		{"a user name in the image", "passwd", createReq(`{"Image":"app-image","User":"app"}`), `the uid of user "app"`},
		{"a joined container", "container", createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"container:web"}}`), "container web (joined by network)"},
		{"a named volume", "volume", createReq(`{"Image":"busybox","User":"1","HostConfig":{"Binds":["etcvol:/m"]}}`), "volume etcvol"},
		{"a network", "network", createReq(`{"Image":"busybox","User":"1","HostConfig":{"NetworkMode":"lan"}}`), "network lan"},
		{"exec into a container", "container", post("/containers/web/exec", `{"Cmd":["sh"]}`), "the user of container web"},
		{"update of a container", "container", post("/containers/web/update", `{"Memory":1}`), "the limits of container web"},
		{"start of a container", "container", post("/containers/web/start", ``), "container web, to check what it would run"},
		{"docker cp into a container", "container", authorization.Request{RequestMethod: "PUT", RequestURI: "/containers/web/archive?path=/"}, "the user of container web"},
		{"a rollback's spec", "service", post("/services/svc/update?rollback=previous", `{"Name":"svc"}`), "the spec service svc rolls back to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := Builder{Lookup: failingLookup{lookupWorld, tt.fail}}.Build(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("Build: %v (a failed lookup must not end the build)", err)
			}
			var facts []string
			for _, u := range in.Unknown {
				facts = append(facts, u.Fact+": "+u.Reason)
			}
			got := strings.Join(facts, "; ")
			if !strings.Contains(got, tt.fact) || !strings.Contains(got, errDaemonDown.Error()) {
				t.Errorf("unknown = %q, want a fact containing %q", got, tt.fact)
			}
		})
	}
}
