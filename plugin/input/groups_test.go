package input

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

type failingGroups struct{}

var errNoDatabase = errors.New("open /host/etc/group: permission denied")

func (failingGroups) Groups(context.Context, string) ([]string, error) { return nil, errNoDatabase }

// TestUserGroups: a TLS user's groups come from the resolver, sorted; an
// unauthenticated caller has none whatever the resolver says; a failed
// resolver leaves the groups unknown (request_lookup_failed denies), as
// does having no resolver at all.
func TestUserGroups(t *testing.T) {
	t.Parallel()
	table := StaticGroups{"alice": {"docker", "alice"}, "carol": {"ci"}}
	tests := []struct {
		name       string
		user, meth string
		groups     GroupResolver
		want       []string
		unknown    string // substring of the unknown fact; "" = none
	}{
		{"TLS user, sorted", "alice", "TLS", table, []string{"alice", "docker"}, ""},
		{"TLS user, one group", "carol", "TLS", table, []string{"ci"}, ""},
		{"TLS user the host does not know", "remote", "TLS", table, []string{}, ""},
		{"unix socket: no user, no lookup", "", "", failingGroups{}, []string{}, ""},
		{"a name without TLS is not trusted", "alice", "", table, []string{}, ""},
		{"database unreadable", "alice", "TLS", failingGroups{}, []string{}, "the groups of user alice: " + errNoDatabase.Error()},
		{"no resolver", "alice", "TLS", nil, []string{}, "the groups of user alice: dockward has no user database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := authorization.Request{RequestMethod: "GET", RequestURI: "/containers/json", User: tt.user, UserAuthNMethod: tt.meth}
			in, err := Builder{Groups: tt.groups}.Build(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in.User.Groups, tt.want) {
				t.Errorf("groups = %#v, want %#v", in.User.Groups, tt.want)
			}
			var facts []string
			for _, u := range in.Unknown {
				facts = append(facts, u.Fact+": "+u.Reason)
			}
			got := strings.Join(facts, "; ")
			if (tt.unknown == "") != (got == "") || !strings.Contains(got, tt.unknown) {
				t.Errorf("unknown = %q, want %q", got, tt.unknown)
			}
		})
	}
}
