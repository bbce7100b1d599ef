package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/audit"
	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/policy"
)

type auditParams struct {
	log          string
	since, until string
	filter       audit.Filter
	follow       bool
	json         bool
}

func (p *auditParams) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.log, "log", config.Default().AuditLog, "audit log file (rotated files beside it are read too)")
	f.StringVar(&p.since, "since", "", "only records at or after this time: a duration ago (24h, 90m) or a timestamp (2026-11-26, 2026-11-26T10:00:00Z)")
	f.StringVar(&p.until, "until", "", "only records at or before this time (same forms as --since)")
	f.StringVar(&p.filter.User, "user", "", "only this user (TLS client CN, or the local caller's name with the identity broker; \"\" on the unix socket)")
	f.StringVar(&p.filter.Group, "group", "", "only users in this group (as the record names their host groups)")
	f.StringVar(&p.filter.Level, "level", "", "only requests judged at this level (privileged, baseline or restricted)")
	f.StringVar(&p.filter.Rule, "rule", "", "only records naming this rule id (enforced, dry-run or exempted)")
	f.StringVar(&p.filter.Image, "image", "", "only this image; a trailing * matches a prefix (registry.example.com/*)")
	f.StringVar(&p.filter.Project, "project", "", "only containers of this Compose project (the com.docker.compose.project label)")
	f.StringVar(&p.filter.Service, "service", "", "only containers of this Compose service (with --project: of that project)")
	f.StringVar(&p.filter.Decision, "decision", "", "only deny, dryrun-deny or allow")
	f.BoolVar(&p.json, "json", false, "print JSON (one record per line; an object for summary)")
}

func (p *auditParams) resolve(now time.Time) error {
	var err error
	if p.filter.Since, err = parseWhen(p.since, now); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if p.filter.Until, err = parseWhen(p.until, now); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	if p.filter.Level != "" && !slices.Contains(policy.Levels, p.filter.Level) {
		return fmt.Errorf("--level %q: expected one of %s", p.filter.Level, strings.Join(policy.Levels, ", "))
	}
	switch p.filter.Decision {
	case "", "deny", "dryrun-deny", "allow":
	default:
		return fmt.Errorf("--decision %q: expected deny, dryrun-deny or allow", p.filter.Decision)
	}
	return nil
}

// parseWhen reads "24h" (that long ago), an RFC 3339 timestamp, or a date.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (24h) nor a timestamp (2026-11-26T10:00:00Z)", s)
}

func newAudit() *cobra.Command {
	p := &auditParams{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Review the audit log: who tried what, which rules failed",
		Long: `Print audit records, oldest first, from the audit log and its rotated files.
Lines that are not valid records (a truncated write, a hand edit) are reported on
stderr with their file and line number, and skipped.

Exit status: 0 when the log was read (whether or not anything matched), 2 on
an error (unreadable log, bad flags).`,
		Example: `  dockward audit --since 24h
  dockward audit --rule host_mounts --decision deny
  dockward audit --user alice --image 'registry.example.com/*' --json | jq .
  dockward audit --group ci --level baseline --decision deny
  dockward audit --project shop --service web
  dockward audit --follow
  dockward audit summary --since 168h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := p.resolve(time.Now()); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			return runAudit(cmd, p)
		},
	}
	p.bind(cmd)
	cmd.Flags().BoolVarP(&p.follow, "follow", "f", false, "after the existing records, print new ones as they are written (survives rotation)")
	cmd.AddCommand(newAuditSummary())
	return cmd
}

func runAudit(cmd *cobra.Command, p *auditParams) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	files, err := audit.Files(p.log)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	header := false
	emit := func(r *audit.Record) error {
		if p.json {
			return json.NewEncoder(out).Encode(r)
		}
		if !header {
			fmt.Fprintln(tw, "TIME\tDECISION\tUSER\tLEVEL\tENDPOINT\tIMAGE\tCOMPOSE\tRULES\tDECISION ID")
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.Local().Format(time.DateTime), r.Decision, orDash(r.User),
			orDash(r.Level), orDash(r.Endpoint), orDash(r.Image), composeCell(r.ComposeProject, r.ComposeService, r.ComposeObject), rulesCell(r), r.DecisionID)
		return nil
	}
	bad := func(b audit.BadLine) { fmt.Fprintf(errOut, "warning: skipped %s\n", b) }
	if err := audit.Scan(cmd.Context(), files, p.filter, emit, bad); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	tw.Flush()
	if !p.follow {
		if !header && !p.json {
			fmt.Fprintln(errOut, "no matching records")
		}
		return nil
	}
	follow := func(r *audit.Record) error {
		err := emit(r)
		tw.Flush()
		return err
	}
	if err := audit.Follow(cmd.Context(), p.log, p.filter, 250*time.Millisecond, follow, bad); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	return nil
}

func rulesCell(r *audit.Record) string {
	var parts []string
	for _, v := range r.Violations {
		parts = append(parts, v.ID)
	}
	for _, v := range r.DryRun {
		parts = append(parts, v.ID+"(dryrun)")
	}
	for _, v := range r.Exempted {
		parts = append(parts, v.ID+"(exempt)")
	}
	if len(parts) == 0 && r.Reason != "" {
		return "reason: " + r.Reason
	}
	return orDash(strings.Join(parts, ","))
}

// composeCell is project/service for a container Compose created,
// "project volume data" for a volume (or network) it created, else -.
func composeCell(project, service, object string) string {
	switch {
	case service != "":
		return project + "/" + service
	case project != "" && object != "":
		return project + " " + object
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newAuditSummary() *cobra.Command {
	p := &auditParams{}
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Count denials by rule, user and image over a window",
		Long: `Count denials by rule, user and image. Enforced denials (DENY) and dry-run
denials (DRYRUN: what enforcing those rules would start to refuse) are counted apart.`,
		Example: `  dockward audit summary --since 24h
  dockward audit summary --since 2026-11-01 --until 2026-11-08 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := p.resolve(time.Now()); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			files, err := audit.Files(p.log)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			s := audit.NewSummary()
			bad := func(b audit.BadLine) { fmt.Fprintf(cmd.ErrOrStderr(), "warning: skipped %s\n", b) }
			if err := audit.Scan(cmd.Context(), files, p.filter, func(r *audit.Record) error { s.Add(r); return nil }, bad); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			return printSummary(cmd.OutOrStdout(), s, p.json)
		},
	}
	p.bind(cmd)
	return cmd
}

func printSummary(out io.Writer, s *audit.Summary, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(out).Encode(map[string]any{
			"records": s.Records, "deny": s.Deny, "dryrun_deny": s.DryRun, "allow": s.Allow,
			"by_rule": s.ByRule(), "by_user": s.ByUser(), "by_image": s.ByImage(),
		})
	}
	fmt.Fprintf(out, "%d records: %d denied, %d dry-run denied, %d allowed\n", s.Records, s.Deny, s.DryRun, s.Allow)
	for _, sec := range []struct {
		title string
		rows  []audit.Count
	}{{"RULE", s.ByRule()}, {"USER", s.ByUser()}, {"IMAGE", s.ByImage()}} {
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tDENY\tDRYRUN\n", sec.title)
		for _, c := range sec.rows {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", c.Key, c.Deny, c.DryRun)
		}
		tw.Flush()
	}
	return nil
}
