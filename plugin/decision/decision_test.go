package decision

import (
	"strings"
	"testing"
)

func TestMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    Decision
		want []string // substrings, in order
	}{
		{
			name: "two violations sorted by id, each with its fix",
			d: Decision{Violations: []Violation{
				{ID: "read_only_rootfs", Msg: "root filesystem is writable", Fix: "add --read-only"},
				{ID: "drop_all_caps", Msg: "capabilities are not dropped", Fix: "add --cap-drop=ALL"},
			}},
			want: []string{"2 policy violations:",
				"[drop_all_caps] capabilities are not dropped — fix: add --cap-drop=ALL",
				"[read_only_rootfs] root filesystem is writable — fix: add --read-only",
				"decision abc"},
		},
		{
			name: "one violation is singular",
			d:    Decision{Violations: []Violation{{ID: "no_privileged", Msg: "privileged", Fix: "remove --privileged"}}},
			want: []string{"1 policy violation:", "[no_privileged]"},
		},
		{
			name: "the level that judged, and for whom",
			d: Decision{Level: "restricted", User: "alice", Groups: []string{"docker", "alice"},
				Violations: []Violation{{ID: "read_only_rootfs", Msg: "root filesystem is writable"}}},
			want: []string{"1 policy violation:", "[read_only_rootfs]",
				"\njudged at level restricted (user alice, groups docker alice)\n", "decision abc"},
		},
		{
			name: "the level of a caller without a name",
			d:    Decision{Level: "baseline", Violations: []Violation{{ID: "no_privileged", Msg: "privileged"}}},
			want: []string{"[no_privileged]", "\njudged at level baseline (no user)"},
		},
		{
			name: "a user without groups",
			d:    Decision{Level: "restricted", User: "remote", Violations: []Violation{{ID: "x", Msg: "m"}}},
			want: []string{"judged at level restricted (user remote)\n"},
		},
		{
			name: "a Compose container names its project and service",
			d: Decision{ComposeProject: "shop", ComposeService: "web",
				Violations: []Violation{{ID: "read_only_rootfs", Msg: "root filesystem is writable", Fix: "set read_only: true on the service"}}},
			want: []string{"1 policy violation in Compose service web (project shop):",
				"[read_only_rootfs] root filesystem is writable — fix: set read_only: true on the service", "decision abc"},
		},
		{
			name: "a volume Compose creates names it",
			d: Decision{ComposeProject: "shop", ComposeObject: "volume data",
				Violations: []Violation{{ID: "volume_host_path", Msg: "binds /etc"}}},
			want: []string{"1 policy violation in Compose volume data (project shop):", "[volume_host_path] binds /etc"},
		},
		{
			name: "fail-closed reason",
			d:    Deny("container create without a JSON body"),
			want: []string{"request denied: container create without a JSON body"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.d.Sort()
			if tt.d.Reason != "" && strings.Contains(tt.d.Message(""), "judged at level") {
				t.Errorf("a fail-closed denial names a level")
			}
			got := tt.d.Message("abc")
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("message %q lacks %q (in order)", got, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	v := []Violation{{ID: "x"}}
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{Allow: true}, OutcomeAllow},
		{Decision{Allow: true, DryRun: v}, OutcomeDryRunDeny},
		{Decision{Allow: true, Exempted: v}, OutcomeAllow},
		{Decision{Violations: v}, OutcomeDeny},
		{Deny("boom"), OutcomeDeny},
		{Decision{}, OutcomeDeny},
	}
	for _, tt := range tests {
		if got := tt.d.Outcome(); got != tt.want {
			t.Errorf("%+v.Outcome() = %q, want %q", tt.d, got, tt.want)
		}
	}
	if (Decision{Allow: true}).Message("id") != "" {
		t.Error("an allow has a message")
	}
}
