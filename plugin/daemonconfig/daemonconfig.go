// Package daemonconfig adds or removes an authorization plugin in dockerd's
// daemon.json without disturbing the operator's other settings.
package daemonconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
)

// Key is daemon.json's list of authorization plugins.
const Key = "authorization-plugins"

// Enable adds name to authorization-plugins in the daemon.json at path,
// creating the file if needed. It reports whether the file changed.
func Enable(path, name string) (bool, error) {
	return edit(path, func(list []string) []string {
		if slices.Contains(list, name) {
			return list
		}
		return append(list, name)
	})
}

// Disable removes name from authorization-plugins. It reports whether the
// file changed.
func Disable(path, name string) (bool, error) {
	return edit(path, func(list []string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == name })
	})
}

func edit(path string, change func([]string) []string) (bool, error) {
	return editDoc(path, func(doc map[string]json.RawMessage) (bool, error) {
		var list []string
		if raw, ok := doc[Key]; ok {
			if err := json.Unmarshal(raw, &list); err != nil {
				return false, fmt.Errorf("%s: %q is not a list of names: %w", path, Key, err)
			}
		}
		next := change(list)
		if slices.Equal(list, next) {
			return false, nil
		}
		if len(next) == 0 {
			delete(doc, Key)
		} else {
			b, _ := json.Marshal(next)
			doc[Key] = b
		}
		return true, nil
	})
}

// editDoc applies change to the daemon.json document at path and writes it
// back (a backup of the old file beside it, atomically) when it changed.
func editDoc(path string, change func(map[string]json.RawMessage) (bool, error)) (bool, error) {
	doc := map[string]json.RawMessage{}
	orig, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		orig = nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", path, err)
	case len(bytes.TrimSpace(orig)) > 0:
		if err := json.Unmarshal(orig, &doc); err != nil {
			return false, fmt.Errorf("%s is not valid JSON, leaving it untouched: %w", path, err)
		}
	}
	changed, err := change(doc)
	if err != nil || !changed {
		return false, err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return false, err
	}
	out = append(out, '\n')
	if orig != nil {
		if err := os.WriteFile(path+".dockward-backup", orig, 0o644); err != nil {
			return false, fmt.Errorf("back up %s: %w", path, err)
		}
	}
	tmp := path + ".dockward-tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return false, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("replace %s: %w", path, err)
	}
	return true, nil
}
