package compose

import (
	"os"

	"go.yaml.in/yaml/v3"
)

// Locate finds where a service (section "services"), network or volume is
// written: the first of files (in Compose's order, so the base file before
// its overrides) whose top-level section has the key, and the key's line.
// The files were already loaded by Compose; this only reads positions, so
// a file that cannot be read or parsed here is skipped. ("", 0) when no
// file has it (a service from include: or extends: of another file).
func Locate(files []string, section, key string) (string, int) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		if line := keyLine(doc.Content[0], section, key); line > 0 {
			return f, line
		}
	}
	if len(files) > 0 {
		return files[0], 0
	}
	return "", 0
}

func keyLine(root *yaml.Node, section, key string) int {
	sec := child(root, section)
	if sec == nil {
		return 0
	}
	for i := 0; i+1 < len(sec.Content); i += 2 {
		if sec.Content[i].Value == key {
			return sec.Content[i].Line
		}
	}
	return 0
}

func child(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
