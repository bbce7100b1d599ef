package policy

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/format"
)

// Format formats every .rego file under dir as `opa fmt` does. It returns the
// files that were not formatted, rewriting them when write is set.
func Format(dir string, write bool) ([]string, error) {
	var changed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out, err := format.Source(p, src)
		if err != nil {
			return fmt.Errorf("format %s: %w", p, err)
		}
		if bytes.Equal(src, out) {
			return nil
		}
		changed = append(changed, p)
		if write {
			return os.WriteFile(p, out, 0o644)
		}
		return nil
	})
	return changed, err
}
