package input

import (
	"slices"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

// TestServiceAsStored: a service is judged as the daemon stores it, with
// the fields its API version lacks removed (moby's adjustForAPIVersion): a
// --cap-drop ALL sent as /v1.40 is not applied, and NoNewPrivileges only
// exists from API 1.44 (Engine 20.10 speaks 1.41 and never sets it).
func TestServiceAsStored(t *testing.T) {
	t.Parallel()
	const spec = `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"busybox","User":"1","CapabilityDrop":["ALL"],` +
		`"Sysctls":{"net.ipv4.ip_forward":"1"},"Privileges":{"NoNewPrivileges":true}},"Resources":{"Limits":{"Pids":100}}}}`
	tests := []struct {
		name, uri, engine string
		caps, nnp, pids   bool
		sysctls           bool
	}{
		{"API 1.56", "/v1.56/services/create", "1.56", true, true, true, true},
		{"API 1.44", "/v1.44/services/create", "1.56", true, true, true, true},
		{"API 1.43 drops no-new-privileges", "/v1.43/services/create", "1.56", true, false, true, true},
		{"API 1.41 (Engine 20.10's)", "/v1.41/services/create", "1.41", true, false, true, true},
		{"API 1.40 drops capabilities and the pids limit", "/v1.40/services/create", "1.56", false, false, false, true},
		{"API 1.39 drops sysctls too", "/v1.39/services/create", "1.56", false, false, false, false},
		{"no version: the engine's (20.10)", "/services/create", "1.41", true, false, true, true},
		{"no version: the engine's (current)", "/services/create", "1.56", true, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := Builder{Lookup: StaticLookup{Images: lookupWorld.Images, EngineAPI: tt.engine}}
			in, err := b.Build(t.Context(), authorization.Request{RequestMethod: "POST", RequestURI: tt.uri,
				RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: []byte(spec)})
			if err != nil {
				t.Fatal(err)
			}
			c := in.Container
			if got := slices.Contains(c.CapDrop, "ALL"); got != tt.caps {
				t.Errorf("cap_drop ALL = %v, want %v", got, tt.caps)
			}
			if got := c.Security.NoNewPrivileges; got != tt.nnp {
				t.Errorf("no_new_privileges = %v, want %v", got, tt.nnp)
			}
			if got := c.Resources.PidsLimit != nil && *c.Resources.PidsLimit == 100; got != tt.pids {
				t.Errorf("pids limit 100 = %v, want %v", got, tt.pids)
			}
			if got := len(c.Sysctls) > 0; got != tt.sysctls {
				t.Errorf("sysctls = %v, want %v", c.Sysctls, tt.sysctls)
			}
		})
	}
}
