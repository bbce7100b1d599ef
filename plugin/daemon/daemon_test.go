package daemon

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockward/dockward/plugin/input"
)

// TestLookupUID reads /etc/passwd as the runtime does (moby/sys/user),
// not as a strict parser would (issue 11 item 9).
func TestLookupUID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, passwd, user string
		want               int
		notFound, err      bool
	}{
		{name: "plain", passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n", user: "app", want: 1000},
		{name: "empty uid field is 0, and the first line wins", passwd: "app:x::0::/:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n", user: "app", want: 0},
		{name: "a uid that is not a number is 0", passwd: "app:x:notanumber:0::/:/bin/sh\n", user: "app", want: 0},
		{name: "a short line is a user with uid 0", passwd: "app\n", user: "app", want: 0},
		{name: "a uid with a sign is parsed by Atoi", passwd: "app:x:+0:0::/:/bin/sh\n", user: "app", want: 0},
		{name: "the first of two entries wins", passwd: "app:x:1000:1000::/:/bin/sh\napp:x:0:0::/:/bin/sh\n", user: "app", want: 1000},
		{name: "leading blanks are trimmed", passwd: "   app:x:0:0::/:/bin/sh\n", user: "app", want: 0},
		{name: "a comment is a line like any other", passwd: "#app:x:0:0\napp:x:1000:1000\n", user: "app", want: 1000},
		{name: "no such user", passwd: "root:x:0:0\n", user: "ghost", notFound: true},
		{name: "no passwd at all", passwd: "\x00nil", user: "app", notFound: true},
		{name: "a line the runtime's scanner cannot read", passwd: "app:x:1000:" + strings.Repeat("x", 70000) + "\n", user: "app", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := []byte(tt.passwd)
			if tt.passwd == "\x00nil" {
				file = nil
			}
			got, err := LookupUID(file, tt.user)
			switch {
			case tt.notFound:
				if !errors.Is(err, input.ErrNotFound) {
					t.Fatalf("LookupUID = %d, %v; want ErrNotFound", got, err)
				}
			case tt.err:
				if err == nil || errors.Is(err, input.ErrNotFound) {
					t.Fatalf("LookupUID = %d, %v; want a parse error", got, err)
				}
			case err != nil || got != tt.want:
				t.Fatalf("LookupUID = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestKnownBypass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		want    []string // substrings; none means ""
	}{
		{"20.10.24+dfsg1", []string{"CVE-2024-41110", "CVE-2026-34040"}},
		{"26.1.4", []string{"CVE-2024-41110", "CVE-2026-34040"}},
		{"26.1.5", []string{"CVE-2026-34040"}},
		{"27.1.1", []string{"CVE-2026-34040"}},
		{"29.3.0", []string{"CVE-2026-34040"}},
		{"29.3.1", nil},
		{"30.0.0", nil},
		{"library-import", nil},
	}
	for _, tt := range tests {
		got := KnownBypass(tt.version)
		if len(tt.want) == 0 && got != "" {
			t.Errorf("%s: %q, want none", tt.version, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %s", tt.version, got, w)
			}
		}
		if strings.Contains(got, "CVE-2024-41110") && !strings.Contains(strings.Join(tt.want, ""), "CVE-2024-41110") {
			t.Errorf("%s: flagged CVE-2024-41110 wrongly", tt.version)
		}
	}
}

// doctor tells "no known bypass" from "cannot tell" with VersionKnown.
func TestVersionKnown(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"20.10.24+dfsg1": true, "29.3.1": true, "v27.1": true, "library-import": false, "": false, "dev": false} {
		if got := VersionKnown(v); got != want {
			t.Errorf("VersionKnown(%q) = %v, want %v", v, got, want)
		}
	}
}
