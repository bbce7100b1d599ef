package input

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

// TestRedactCorpus: for every request of the corpus that carries a secret
// (one field each), the input document holds no trace of it and keeps what
// was set (names, keys) and the facts rules read.
func TestRedactCorpus(t *testing.T) {
	t.Parallel()
	b := Builder{Lookup: StaticLookup{
		Images:     map[string]ImageInfo{"busybox": {ID: "sha256:bb", User: "1000"}},
		Volumes:    testutil.SecretVolumes,
		Containers: testutil.SecretContainers,
	}}
	for _, tc := range testutil.SecretCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			in, err := b.Build(t.Context(), tc.Request())
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("err = %v, want %q", err, tc.Error)
				}
				if strings.Contains(err.Error(), tc.Canary) {
					t.Errorf("the refusal carries the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			out, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), tc.Canary) {
				t.Errorf("the input carries %q:\n%s", tc.Canary, out)
			}
			for _, k := range tc.Keep {
				if !strings.Contains(string(out), k) {
					t.Errorf("the input lost %q:\n%s", k, out)
				}
			}
		})
	}
}

func TestRedactHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func(string) string
		in   string
		want string
	}{
		{"url userinfo", redactUserinfo, "https://u:tok@git.example.com/a.git#main", "https://REDACTED@git.example.com/a.git#main"},
		{"url user only", redactUserinfo, "https://tok@github.com/a.git", "https://REDACTED@github.com/a.git"},
		{"url query", redactUserinfo, "https://h/x.tar?sig=abc", "https://h/x.tar?sig=REDACTED"},
		{"plain url", redactUserinfo, "https://h/x.tar", "https://h/x.tar"},
		{"scp remote", redactUserinfo, "u:p@h:org/repo.git", "REDACTED@h:org/repo.git"},
		{"share", redactUserinfo, "//u:p@h/share", "//REDACTED@h/share"},
		{"share without user", redactUserinfo, "//h/share", "//h/share"},
		{"at in a path", redactUserinfo, "/srv/a@b", "/srv/a@b"},
		{"relative device", redactUserinfo, "etc", "etc"},
		{"mount options", redactMountOptions, "addr=h,username=u,password=p,vers=3.0,ro", "addr=h,username=REDACTED,password=REDACTED,vers=3.0,ro"},
		{"escaped comma", redactMountOptions, "password=a,,b,uid=1", "password=REDACTED,uid=1"},
		{"overlay dirs kept", redactMountOptions, "lowerdir=/a:/b,upperdir=/u,workdir=/w", "lowerdir=/a:/b,upperdir=/u,workdir=/w"},
		{"ceph secret", redactMountOptions, "name=admin,secret=AQB", "name=admin,secret=REDACTED"},
		{"buildargs", redactBuildArgs, `{"B":"2","A":null}`, `{"A":null,"B":"REDACTED"}`},
		{"buildargs not JSON", redactBuildArgs, `x`, Redacted},
		{"changes", redactChanges, "ENV A=1\nlabel a=b\n env b c", "ENV REDACTED\nlabel a=b\nENV REDACTED"},
		{"changes continued", redactChanges, "ENV A=1 \\\n B=2\nEXPOSE 80", "ENV REDACTED\nREDACTED\nEXPOSE 80"},
		{"changes without ENV", redactChanges, "EXPOSE 80", "EXPOSE 80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f(tt.in); got != tt.want {
				t.Errorf("%q -> %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
