package daemon

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePasswd(t *testing.T) {
	t.Parallel()
	got := ParsePasswd(strings.NewReader("root:x:0:0:root:/root:/bin/sh\n# comment\n\napp:x:1000:1000::/home/app:/bin/sh\nbroken\nbad:x:notanumber:0\napp:x:0:0:shadowed\n"))
	want := map[string]int{"root": 0, "app": 1000}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParsePasswd = %v, want %v", got, want)
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
