package input

import (
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestAsRequested(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           container.HostConfig
		dflt         string
		masked, ro   bool // still set afterwards
		wantCgroupns string
	}{
		{"daemon defaults are not requests", container.HostConfig{MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"}, CgroupnsMode: "host"}, "host", false, false, ""},
		{"systempaths=unconfined stays", container.HostConfig{MaskedPaths: []string{}, ReadonlyPaths: []string{}}, "host", true, true, ""},
		{"explicit host on a cgroup v2 daemon stays", container.HostConfig{CgroupnsMode: "host"}, "private", false, false, "host"},
	}
	for _, tt := range tests {
		got := AsRequested(tt.in, tt.dflt)
		if (got.MaskedPaths != nil) != tt.masked || (got.ReadonlyPaths != nil) != tt.ro || string(got.CgroupnsMode) != tt.wantCgroupns {
			t.Errorf("%s: %+v", tt.name, got)
		}
	}
}
