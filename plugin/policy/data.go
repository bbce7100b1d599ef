package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// validateConfig checks data.authz_config when it is loaded, so that a typo
// in data.json is a load error with a clear message (and a reload keeps the
// last good policy) instead of an evaluation error on every request.
func validateConfig(docs map[string]any) error {
	raw, ok := docs["authz_config"]
	if !ok {
		return nil // every parameter has a default in lib/params
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	var cfg struct {
		Params      map[string]any    `json:"params"`
		Modes       map[string]string `json:"modes"`
		ExemptUsers []string          `json:"exempt_users"`
		Admins      []string          `json:"admins"`
		Exemptions  []struct {
			Users   []string `json:"users"`
			Images  []string `json:"images"`
			Rules   []string `json:"rules"`
			Reason  string   `json:"reason"`
			Expires string   `json:"expires"`
		} `json:"exemptions"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("authz_config: %w", err)
	}
	var problems []string
	for id, mode := range cfg.Modes {
		if mode != "enforce" && mode != "dryrun" {
			problems = append(problems, fmt.Sprintf("modes.%s is %q: expected \"enforce\" or \"dryrun\"", id, mode))
		}
	}
	// OPA's time builtins work in int64 nanoseconds: years 1678 to 2262.
	latest := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range cfg.Exemptions {
		if e.Reason == "" {
			problems = append(problems, fmt.Sprintf("exemptions[%d] has no reason: say why, it is written to the audit log", i))
		}
		if e.Expires != "" {
			t, err := time.Parse(time.RFC3339, e.Expires)
			if err != nil || t.After(latest) {
				problems = append(problems, fmt.Sprintf("exemptions[%d].expires %q: expected an RFC 3339 time before 2262, e.g. 2026-12-31T23:59:59Z", i, e.Expires))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New("data.json authz_config: " + strings.Join(problems, "; "))
	}
	return nil
}
