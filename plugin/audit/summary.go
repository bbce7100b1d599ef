package audit

import "sort"

// Count is one row of a summary.
type Count struct {
	Key    string `json:"key"`
	Deny   int    `json:"deny"`
	DryRun int    `json:"dryrun_deny"`
}

// Summary counts denials by rule, user and image. Enforced denials and
// dry-run denials are counted apart: the second are what enforcing a rule
// would start to break.
type Summary struct {
	Records int `json:"records"`
	Deny    int `json:"deny"`
	DryRun  int `json:"dryrun_deny"`
	Allow   int `json:"allow"`
	byRule  map[string]*Count
	byUser  map[string]*Count
	byImage map[string]*Count
}

// NewSummary returns an empty summary.
func NewSummary() *Summary {
	return &Summary{byRule: map[string]*Count{}, byUser: map[string]*Count{}, byImage: map[string]*Count{}}
}

// Add counts one record.
func (s *Summary) Add(r *Record) {
	s.Records++
	var rules []Item
	switch r.Decision {
	case "deny":
		s.Deny++
		rules = r.Violations
	case "dryrun-deny":
		s.DryRun++
		rules = r.DryRun
	default:
		s.Allow++
		return
	}
	dry := r.Decision == "dryrun-deny"
	bump := func(m map[string]*Count, key string) {
		c := m[key]
		if c == nil {
			c = &Count{Key: key}
			m[key] = c
		}
		if dry {
			c.DryRun++
		} else {
			c.Deny++
		}
	}
	seen := map[string]bool{}
	for _, v := range rules {
		if !seen[v.ID] {
			seen[v.ID] = true
			bump(s.byRule, v.ID)
		}
	}
	if len(rules) == 0 {
		bump(s.byRule, "(no verdict: "+firstWords(r.Reason)+")")
	}
	user := r.User
	if user == "" {
		user = "(anonymous)"
	}
	bump(s.byUser, user)
	if r.Image != "" {
		bump(s.byImage, r.Image)
	}
}

func firstWords(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ByRule, ByUser and ByImage return the counts, most denials first.
func (s *Summary) ByRule() []Count  { return sorted(s.byRule) }
func (s *Summary) ByUser() []Count  { return sorted(s.byUser) }
func (s *Summary) ByImage() []Count { return sorted(s.byImage) }

func sorted(m map[string]*Count) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := out[i].Deny+out[i].DryRun, out[j].Deny+out[j].DryRun; a != b {
			return a > b
		}
		return out[i].Key < out[j].Key
	})
	return out
}
