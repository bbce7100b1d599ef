package cli

import (
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/authz"
)

type recordingDecider struct{ got *authorization.Request }

func (r recordingDecider) Decide(req authorization.Request) authz.Result {
	*r.got = req
	return authz.Result{}
}

// TestScanAsUser: scan --user decides each rebuilt create as that TLS
// user (their level and exemptions apply); without it, as nobody.
func TestScanAsUser(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ user, authn string }{{"carol", "TLS"}, {"", ""}} {
		var got authorization.Request
		asUser{recordingDecider{&got}, tt.user}.Decide(authorization.Request{RequestMethod: "POST", RequestURI: "/containers/create"})
		if got.User != tt.user || got.UserAuthNMethod != tt.authn || got.RequestURI != "/containers/create" {
			t.Errorf("--user %q: decided %+v", tt.user, got)
		}
	}
}
