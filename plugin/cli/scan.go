package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/scan"
)

type scanParams struct {
	policyDir  string
	dockerHost string
	all        bool
	json       bool
	user       string
	groups     []string
	level      string
}

func newScan() *cobra.Command {
	p := scanParams{}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Judge the containers that already exist against the policy",
		Long: `List the containers on the daemon, rebuild each one's create request from its
inspect data, and decide it with the plugin's own code path. Shows what turning
enforcement on would refuse, and audits containers created before the plugin
(or by exempt users). Dry-run violations are reported apart.

Exit status: 0 when no container breaks an enforced rule, 1 when one does,
2 on an error.`,
		Example: `  dockward scan
  dockward scan --all --json | jq '.[] | select(.decision == "deny") | .name'
  dockward scan --policy-dir ./policies --docker-host unix:///run/user/1000/docker.sock
  dockward scan --user carol          # at carol's level (her groups from /etc/group)
  dockward scan --user ci-bot --group ci
  dockward scan --level baseline      # what baseline would refuse`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd, p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.policyDir, "policy-dir", config.Default().PolicyDir, "policy directory to judge with")
	f.StringVar(&p.dockerHost, "docker-host", dockerHostDefault(), "daemon whose containers to scan")
	f.BoolVarP(&p.all, "all", "a", false, "also scan stopped containers")
	f.BoolVar(&p.json, "json", false, "print JSON")
	f.StringVar(&p.user, "user", "", "judge as if this user created the containers: their level and exemptions apply (default: the unnamed caller, judged at levels.default)")
	f.StringVar(&p.level, "level", "", "judge every container at this level (privileged, baseline, restricted) whatever data.json assigns")
	f.StringSliceVar(&p.groups, "group", nil, "with --user: judge as a member of these groups instead of the user's groups in this host's /etc/group")
	return cmd
}

func runScan(cmd *cobra.Command, p scanParams) error {
	ctx := cmd.Context()
	groups, err := localGroups(p.user, p.groups)
	if err != nil {
		return err
	}
	l, err := newLocal(ctx, p.policyDir, p.dockerHost, p.level, groups)
	if err != nil {
		return err
	}
	defer l.Close()
	c := l.policy
	findings, err := scan.Run(ctx, l.docker, asUser{l.plugin, p.user}, p.all)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	out := cmd.OutOrStdout()
	if p.json {
		err = printScanJSON(out, findings)
	} else {
		printScan(out, findings, c.Revision)
	}
	if err != nil {
		return err
	}
	for _, f := range findings {
		if !f.Result.Decision.Allow {
			return &ExitError{Code: 1, Err: fmt.Errorf("containers break the policy"), Silent: true}
		}
	}
	return nil
}

func printScan(out io.Writer, findings []scan.Finding, revision string) {
	if len(findings) == 0 {
		fmt.Fprintln(out, "no containers")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	findings = byProject(findings)
	fmt.Fprintln(tw, "CONTAINER\tIMAGE\tSTATE\tDECISION\tCOMPOSE\tRULES")
	deny, dry := 0, 0
	type tally struct{ n, deny int }
	var projects []string
	perProject := map[string]*tally{}
	for _, f := range findings {
		d := f.Result.Decision
		switch d.Outcome() {
		case decision.OutcomeDeny:
			deny++
		case decision.OutcomeDryRunDeny:
			dry++
		}
		if d.ComposeProject != "" {
			t := perProject[d.ComposeProject]
			if t == nil {
				t = &tally{}
				perProject[d.ComposeProject] = t
				projects = append(projects, d.ComposeProject)
			}
			t.n++
			if !d.Allow {
				t.deny++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Image, f.State, d.Outcome(),
			composeCell(d.ComposeProject, d.ComposeService, ""), ruleList(d))
	}
	tw.Flush()
	fmt.Fprintf(out, "\n%d containers: %d break enforced rules, %d only dry-run rules (policy revision %s)\n",
		len(findings), deny, dry, short(revision))
	for _, p := range projects {
		fmt.Fprintf(out, "compose project %s: %d containers, %d break enforced rules\n", p, perProject[p].n, perProject[p].deny)
	}
	if j := findings[0].Result.Decision.Judged(); j != "" {
		// Every container is judged for the same user, hence at one level.
		fmt.Fprintln(out, j)
	}
	for _, f := range findings {
		d := f.Result.Decision
		if d.Allow && len(d.DryRun) == 0 {
			continue
		}
		if c := d.ComposeService; c != "" {
			fmt.Fprintf(out, "\n%s (%s, compose service %s of project %s):\n", f.Name, f.Image, c, d.ComposeProject)
		} else {
			fmt.Fprintf(out, "\n%s (%s):\n", f.Name, f.Image)
		}
		if d.Reason != "" {
			fmt.Fprintf(out, "  %s\n", d.Reason)
		}
		for _, v := range d.Violations {
			fmt.Fprintf(out, "  [%s] %s — fix: %s\n", v.ID, v.Msg, v.Fix)
		}
		for _, v := range d.DryRun {
			fmt.Fprintf(out, "  dry-run [%s] %s — fix: %s\n", v.ID, v.Msg, v.Fix)
		}
	}
}

// asUser decides each rebuilt create as user (a TLS user, as the identity
// broker presents a local one), so scan judges at that user's level.
type asUser struct {
	d    scan.Decider
	user string
}

func (a asUser) Decide(req authorization.Request) authz.Result {
	if a.user != "" {
		req.User, req.UserAuthNMethod = a.user, "TLS"
	}
	return a.d.Decide(req)
}

// byProject orders the findings by Compose project (containers of no
// project first), then service, keeping scan's order by name within one:
// a project's containers read together.
func byProject(findings []scan.Finding) []scan.Finding {
	out := append([]scan.Finding{}, findings...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Result.Decision, out[j].Result.Decision
		if a.ComposeProject != b.ComposeProject {
			return a.ComposeProject < b.ComposeProject
		}
		return a.ComposeService < b.ComposeService
	})
	return out
}

func ruleList(d decision.Decision) string {
	seen := map[string]bool{}
	var ids []string
	for _, v := range d.Violations {
		if !seen[v.ID] {
			seen[v.ID] = true
			ids = append(ids, v.ID)
		}
	}
	for _, v := range d.DryRun {
		if !seen[v.ID+"(dryrun)"] {
			seen[v.ID+"(dryrun)"] = true
			ids = append(ids, v.ID+"(dryrun)")
		}
	}
	if len(ids) == 0 {
		if d.Reason != "" {
			return "(no verdict)"
		}
		return "-"
	}
	return strings.Join(ids, ",")
}

func printScanJSON(out io.Writer, findings []scan.Finding) error {
	type row struct {
		ID         string               `json:"id"`
		Name       string               `json:"name"`
		Image      string               `json:"image"`
		State      string               `json:"state"`
		Decision   string               `json:"decision"`
		Violations []decision.Violation `json:"violations"`
		DryRun     []decision.Violation `json:"dryrun"`
		Exempted   []decision.Violation `json:"exempted"`
		Reason     string               `json:"reason,omitempty"`
		Level      string               `json:"level"`
		Project    string               `json:"compose_project,omitempty"`
		Service    string               `json:"compose_service,omitempty"`
	}
	rows := []row{}
	for _, f := range byProject(findings) {
		d := f.Result.Decision
		rows = append(rows, row{f.ID, f.Name, f.Image, f.State, d.Outcome(), nonNilV(d.Violations), nonNilV(d.DryRun), nonNilV(d.Exempted), d.Reason, d.Level,
			d.ComposeProject, d.ComposeService})
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

func nonNilV(v []decision.Violation) []decision.Violation {
	if v == nil {
		return []decision.Violation{}
	}
	return v
}
