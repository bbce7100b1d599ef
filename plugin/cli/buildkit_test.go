package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/internal/testutil"
	"github.com/dockward/dockward/plugin/policy"
)

// TestWarnBuildkitWithImageTrust: with image trust on and no_buildkit_session
// only audited, the start log says that BuildKit builds go unseen.
func TestWarnBuildkitWithImageTrust(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string // authz_config members replacing the shipped ones
		warn bool
	}{
		{"shipped defaults: trust off", ``, false},
		{"trust on, session dryrun (shipped mode)", `"params": {"allowed_images": ["registry.example.com/*"]}, "modes": {"no_buildkit_session": "dryrun"}`, true},
		{"require_digest alone is trust", `"params": {"require_digest": true}, "modes": {"no_buildkit_session": "dryrun"}`, true},
		{"trust on, session enforced", `"params": {"allowed_images": ["registry.example.com/*"]}, "modes": {}`, false},
		{"trust on, image_mint_admin_only in dryrun: still trust", `"params": {"allowed_images": ["r/*"]}, "modes": {"no_buildkit_session": "dryrun", "image_mint_admin_only": "dryrun"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := testutil.CopyTree(t, "../../policies")
			if tt.data != "" {
				if err := os.WriteFile(filepath.Join(dir, "data.json"), []byte(`{"authz_config": {`+tt.data+`}}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c, err := policy.Load(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			log := logrus.New()
			log.SetOutput(&buf)
			warnPolicy(t.Context(), log, c)
			got := strings.Contains(buf.String(), "level=warning") && strings.Contains(buf.String(), "no_buildkit_session is not enforced")
			if got != tt.warn {
				t.Errorf("warned = %v, want %v; log:\n%s", got, tt.warn, buf.String())
			}
		})
	}
}
