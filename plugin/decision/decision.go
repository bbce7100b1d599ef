// Package decision holds what a policy evaluation concluded, and renders it
// for the two readers that see it: the developer (the docker CLI message) and
// the operator (the audit record).
package decision

import (
	"fmt"
	"sort"
	"strings"
)

// Outcome values, as written in the audit log.
const (
	OutcomeAllow      = "allow"
	OutcomeDeny       = "deny"
	OutcomeDryRunDeny = "dryrun-deny" // violations found, rules in dryrun mode: allowed
)

// Violation is one broken rule.
type Violation struct {
	ID        string `json:"id"`
	Title     string `json:"title,omitempty"`
	Msg       string `json:"msg"`
	Fix       string `json:"fix,omitempty"`
	Severity  string `json:"severity,omitempty"`
	Exemption string `json:"exemption,omitempty"` // the reason, for waived violations
}

// Decision is the result for one request.
type Decision struct {
	Allow      bool
	Violations []Violation // enforced: any of these denies
	DryRun     []Violation // from rules in dryrun mode: audited, not enforced
	Exempted   []Violation // waived by an exemption: audited, not enforced
	// Reason is set when the request was denied without a policy verdict
	// (fail closed: undecodable body, evaluation error, ...).
	Reason string
	// Level is the level that judged the request (privileged, baseline,
	// restricted: data.authz.decision.level); "" without a policy verdict.
	Level string
	// User and Groups are who the level was picked for, as the input named
	// them: the deny message says whose level judged.
	User   string
	Groups []string
	// ComposeProject and ComposeService name the Compose project and
	// service of the container judged (its com.docker.compose.* labels),
	// "" for any other request: the deny message names them, so a
	// developer running docker compose up reads which service to fix.
	ComposeProject string `json:",omitempty"`
	ComposeService string `json:",omitempty"`
	// ComposeObject names what of the project was judged: "service web",
	// "volume data" or "network front" (the key in the file).
	ComposeObject string `json:",omitempty"`
}

// Deny is a fail-closed denial with a reason.
func Deny(reason string) Decision { return Decision{Reason: reason} }

// Outcome classifies the decision for the audit log.
func (d Decision) Outcome() string {
	switch {
	case !d.Allow:
		return OutcomeDeny
	case len(d.DryRun) > 0:
		return OutcomeDryRunDeny
	default:
		return OutcomeAllow
	}
}

// Sort orders every list by rule id then message, so messages and audit
// records are stable.
func (d *Decision) Sort() {
	for _, vs := range [][]Violation{d.Violations, d.DryRun, d.Exempted} {
		sort.Slice(vs, func(i, j int) bool {
			if vs[i].ID != vs[j].ID {
				return vs[i].ID < vs[j].ID
			}
			return vs[i].Msg < vs[j].Msg
		})
	}
}

// Message renders a denial for the docker CLI, which prints it after
// "authorization denied by plugin dockward: ". Every violated rule is listed
// with its id, what is wrong and the flag that fixes it.
func (d Decision) Message(decisionID string) string {
	if d.Allow {
		return ""
	}
	var b strings.Builder
	if d.Reason != "" {
		fmt.Fprintf(&b, "request denied: %s", d.Reason)
	} else {
		n := len(d.Violations)
		noun := "violations"
		if n == 1 {
			noun = "violation"
		}
		fmt.Fprintf(&b, "%d policy %s", n, noun)
		switch {
		case d.ComposeObject != "":
			fmt.Fprintf(&b, " in Compose %s (project %s)", d.ComposeObject, d.ComposeProject)
		case d.ComposeService != "":
			fmt.Fprintf(&b, " in Compose service %s (project %s)", d.ComposeService, d.ComposeProject)
		}
		b.WriteString(":")
		for _, v := range d.Violations {
			fmt.Fprintf(&b, "\n  [%s] %s", v.ID, v.Msg)
			if v.Fix != "" {
				fmt.Fprintf(&b, " — fix: %s", v.Fix)
			}
		}
		if d.Level != "" {
			fmt.Fprintf(&b, "\n%s", d.Judged())
		}
	}
	if decisionID != "" {
		fmt.Fprintf(&b, "\n(dockward decision %s; an operator can look it up in the audit log)", decisionID)
	}
	return b.String()
}

// Judged says which level judged the request and for whom, e.g.
// "judged at level restricted (user alice, groups docker)": a developer
// denied here and allowed elsewhere learns why. "" without a level.
func (d Decision) Judged() string {
	if d.Level == "" {
		return ""
	}
	who := "no user"
	if d.User != "" {
		who = "user " + d.User
		if len(d.Groups) > 0 {
			who += ", groups " + strings.Join(d.Groups, " ")
		}
	}
	return fmt.Sprintf("judged at level %s (%s)", d.Level, who)
}
