package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/capture"
	"github.com/dockward/dockward/plugin/compose"
	"github.com/dockward/dockward/plugin/daemon"
	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/input"
)

// composeFlags are docker compose's own project flags, passed to it as given.
type composeFlags struct {
	files      []string
	profiles   []string
	envFiles   []string
	projectDir string
	project    string
	command    string
}

func (c *composeFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&c.files, "file", "f", nil, "Compose file (repeat for several, as docker compose -f)")
	f.StringArrayVar(&c.profiles, "profile", nil, "Compose profile to enable (repeat)")
	f.StringArrayVar(&c.envFiles, "env-file", nil, "Compose environment file (repeat; default: the project directory's .env)")
	f.StringVar(&c.projectDir, "project-directory", "", "Compose project directory (default: the first file's directory)")
	f.StringVarP(&c.project, "project-name", "p", "", "Compose project name")
	f.StringVar(&c.command, "compose", "docker compose", `the Compose v2 client to run: "docker compose" or "docker-compose"`)
}

// wanted reports a Compose check: a Compose flag, or arguments that are
// YAML files (compose.yaml, docker-compose.yml, ...).
func (c *composeFlags) wanted(cmd *cobra.Command, args []string) bool {
	for _, name := range []string{"file", "profile", "env-file", "project-directory", "project-name"} {
		if cmd.Flags().Changed(name) {
			return true
		}
	}
	if len(args) == 0 {
		return false
	}
	for _, a := range args {
		if !strings.HasSuffix(a, ".yaml") && !strings.HasSuffix(a, ".yml") {
			return false
		}
	}
	return true
}

// args are the global flags docker compose is run with.
func (c *composeFlags) args(files []string) []string {
	var out []string
	for _, f := range files {
		out = append(out, "-f", f)
	}
	for _, p := range c.profiles {
		out = append(out, "--profile", p)
	}
	for _, e := range c.envFiles {
		out = append(out, "--env-file", e)
	}
	if c.projectDir != "" {
		out = append(out, "--project-directory", c.projectDir)
	}
	if c.project != "" {
		out = append(out, "-p", c.project)
	}
	return out
}

func runCheckCompose(cmd *cobra.Command, p checkParams, args []string) error {
	ctx := cmd.Context()
	files := append(append([]string{}, p.compose.files...), args...)
	groups, err := localGroups(p.user, p.groups)
	if err != nil {
		return err
	}
	// Compose shapes its requests by the daemon's API version (below 1.44
	// it connects networks one by one): claim the version of the daemon
	// the project is meant for, when it answers.
	apiVersion := capture.APIVersion
	if dc, err := daemon.New(p.dockerHost, 5*time.Second); err == nil {
		if _, v, err := dc.Version(ctx); err == nil && v != "" && versionLess(v, apiVersion) {
			apiVersion = v
		}
		dc.Close()
	}
	res, err := capture.Compose(ctx, capture.ComposeOptions{
		Command: strings.Fields(p.compose.command), Args: p.compose.args(files),
		Upstream: p.dockerHost, APIVersion: apiVersion, Timeout: p.timeout,
	})
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	l, err := newLocalWith(ctx, p.policyDir, p.dockerHost, p.level, groups, func(base input.Lookup) input.Lookup {
		return compose.SessionLookup(base, res.Requests, res.Created)
	})
	if err != nil {
		return err
	}
	defer l.Close()
	abs := make([]string, len(files))
	for i, f := range files {
		abs[i], _ = filepath.Abs(f)
	}
	rep, err := compose.Judge(res.Config, res.Requests, asUser{l.plugin, p.user}, abs)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	cwd, _ := os.Getwd()
	out := cmd.OutOrStdout()
	switch p.format {
	case "sarif":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep.SARIF(cwd, Version))
	case "json":
		err = json.NewEncoder(out).Encode(composeJSON(rep, cwd, l.policy.Revision))
	default:
		printCompose(out, rep, cwd, l.policy.Revision)
	}
	if err != nil {
		return err
	}
	if internal, why := rep.Internal(); internal {
		return &ExitError{Code: 2, Err: errors.New(why)}
	}
	if !rep.Allowed() {
		return &ExitError{Code: 1, Err: errors.New("the policy would deny this project"), Silent: true}
	}
	return nil
}

// versionLess compares API versions as numbers (1.9 < 1.41).
func versionLess(a, b string) bool {
	var amaj, amin, bmaj, bmin int
	fmt.Sscanf(a, "%d.%d", &amaj, &amin)
	fmt.Sscanf(b, "%d.%d", &bmaj, &bmin)
	return amaj < bmaj || (amaj == bmaj && amin < bmin)
}

func verdict(d decision.Decision) string {
	if d.Allow {
		return "ALLOWED"
	}
	return "DENIED"
}

func printCompose(out io.Writer, rep *compose.Report, cwd, revision string) {
	var files []string
	for _, f := range rep.Files {
		files = append(files, compose.RelPath(cwd, f))
	}
	fmt.Fprintf(out, "compose project %s (%s)\n", rep.Project, strings.Join(files, ", "))
	denied := 0
	for _, s := range rep.Services {
		d := s.Decision()
		where := ""
		if s.Line > 0 {
			where = fmt.Sprintf(", %s:%d", compose.RelPath(cwd, s.File), s.Line)
		}
		switch {
		case s.NoContainers && len(s.Containers) == 0:
			fmt.Fprintf(out, "  -        service %s: no containers (scale 0)%s\n", s.Name, where)
			continue
		case len(s.Containers) == 0:
			fmt.Fprintf(out, "  ERROR    service %s: compose created no container for it%s\n", s.Name, where)
			continue
		}
		if !d.Allow {
			denied++
		}
		fmt.Fprintf(out, "  %-8s service %s (container %s, image %s%s)\n", verdict(d), s.Name,
			strings.Join(s.ContainerNames(), ", "), s.Containers[0].Image, where)
		printVerdict(out, d)
		if s.Build {
			fmt.Fprintf(out, "    not judged here: its image build (the daemon judges docker compose build on its own)\n")
		}
		if s.Hooks {
			fmt.Fprintf(out, "    NOT JUDGED: its post_start / pre_stop hooks (docker exec at up and down)\n")
		}
	}
	for _, o := range rep.Resources {
		d := o.Result.Decision
		fmt.Fprintf(out, "  %-8s %s %s\n", verdict(d), o.Kind, o.Name)
		printVerdict(out, d)
	}
	noun := "services"
	if len(rep.Services) == 1 {
		noun = "service"
	}
	others := ""
	if n := len(rep.Resources); n > 0 {
		deniedRes := 0
		for _, o := range rep.Resources {
			if !o.Result.Decision.Allow {
				deniedRes++
			}
		}
		others = fmt.Sprintf("; %d of %d other requests denied", deniedRes, n)
	}
	fmt.Fprintf(out, "%d %s: %d denied, %d allowed%s (policy revision %s)\n",
		len(rep.Services), noun, denied, len(rep.Services)-denied, others, short(revision))
}

// printVerdict prints what the daemon would answer (the message the docker
// CLI shows), then what is audited but not enforced.
func printVerdict(out io.Writer, d decision.Decision) {
	if !d.Allow {
		fmt.Fprintln(out, "    "+strings.ReplaceAll(strings.TrimSpace(d.Message("")), "\n", "\n    "))
	}
	for _, v := range d.DryRun {
		fmt.Fprintf(out, "    dry-run (not enforced): [%s] %s — fix: %s\n", v.ID, v.Msg, v.Fix)
	}
	for _, v := range d.Exempted {
		fmt.Fprintf(out, "    exempted (%s): [%s] %s\n", v.Exemption, v.ID, v.Msg)
	}
}

func composeJSON(rep *compose.Report, cwd, revision string) map[string]any {
	verdictJSON := func(d decision.Decision) map[string]any {
		return map[string]any{"allow": d.Allow, "decision": d.Outcome(), "violations": nonNilV(d.Violations),
			"dryrun": nonNilV(d.DryRun), "exempted": nonNilV(d.Exempted), "reason": d.Reason, "level": d.Level}
	}
	services := []map[string]any{}
	for _, s := range rep.Services {
		m := verdictJSON(s.Decision())
		m["service"], m["containers"] = s.Name, nonNilS(s.ContainerNames())
		m["file"], m["line"], m["hooks_not_judged"], m["build_not_judged"] = compose.RelPath(cwd, s.File), s.Line, s.Hooks, s.Build
		if len(s.Containers) > 0 {
			m["image"] = s.Containers[0].Image
		}
		services = append(services, m)
	}
	resources := []map[string]any{}
	for _, o := range rep.Resources {
		m := verdictJSON(o.Result.Decision)
		m["kind"], m["name"] = o.Kind, o.Name
		resources = append(resources, m)
	}
	internal, why := rep.Internal()
	files := []string{}
	for _, f := range rep.Files {
		files = append(files, compose.RelPath(cwd, f))
	}
	return map[string]any{"project": rep.Project, "files": files, "allow": rep.Allowed() && !internal,
		"error": why, "services": services, "resources": resources, "policy_revision": revision}
}
