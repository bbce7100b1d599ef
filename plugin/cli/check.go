package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/capture"
	"github.com/dockward/dockward/plugin/config"
)

type checkParams struct {
	policyDir  string
	dockerHost string
	user       string
	groups     []string
	level      string
	json       bool
	format     string
	timeout    time.Duration
	compose    composeFlags
}

func newCheck() *cobra.Command {
	p := checkParams{}
	cmd := &cobra.Command{
		Use:   "check [flags] -- docker run ... | check [flags] FILE.json | check [flags] compose.yaml ...",
		Short: "Say whether the policy would allow a docker command, without running it",
		Long: `Say whether the active policy would allow a docker command, with the same
violations and fixes the daemon would print — without touching any daemon.

The real docker CLI parses the command: dockward points it at a short-lived
socket of its own, captures the API request it sends, and decides on it with
the plugin's own code path. Facts the request does not carry (an image's
USER, a joined container) are read from the daemon at --docker-host. A FILE.json argument is a raw API request instead:
{"RequestMethod": "POST", "RequestUri": "/v1.41/containers/create",
 "RequestHeaders": {"Content-Type": "application/json"}, "RequestBody": {...}}
(RequestBody may also be base64, as in the plugin protocol).

A Compose file (compose.yaml, or -f files, profiles, .env and --env-file,
--project-directory, -p as docker compose takes them) is checked service by
service: the real docker compose creates the project against a capture
daemon of dockward's own (it answers what Compose asks first: networks,
volumes, images, container lists), and every request Compose sends (the
containers, networks, volumes) is decided as the daemon would decide it.
Nothing runs; the daemon at --docker-host is only read from. --format sarif
writes SARIF 2.1.0 for code-scanning UIs, with each service's file and line.
It needs Compose v2: the docker CLI plugin (--compose "docker compose", the
default) or the standalone binary (--compose docker-compose).

Exit status: 0 allowed, 1 denied, 2 error.`,
		Example: `  dockward check -- docker run --rm busybox true
  dockward check -- docker run --read-only --cap-drop=ALL --user 1000 busybox
  dockward check --user alice --json -- docker create -v /:/host busybox
  dockward check --user carol --group ci -- docker run --rm busybox true
  dockward check --level baseline -- docker run --rm busybox true
  dockward check request.json
  dockward check compose.yaml
  dockward check -f compose.yaml -f compose.prod.yaml --profile debug --env-file prod.env
  dockward check compose.yaml --format sarif > dockward.sarif`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if err := p.resolveFormat(); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			if dash < 0 && p.compose.wanted(cmd, args) {
				return runCheckCompose(cmd, p, args)
			}
			if p.format == "sarif" {
				return &ExitError{Code: 2, Err: errors.New("--format sarif is for Compose files (dockward check compose.yaml --format sarif)")}
			}
			var req authorization.Request
			switch {
			case dash == 0 && len(args) > 0:
				if composeArgv(args) {
					// The first request of an up is a network create:
					// judging it alone would say nothing of the services.
					return &ExitError{Code: 2, Err: errors.New("a Compose command: check the project instead, with the flags docker compose takes (dockward check compose.yaml, -f, --profile, --env-file, -p)")}
				}
				res, err := capture.Run(cmd.Context(), args, p.timeout)
				if err != nil {
					return &ExitError{Code: 2, Err: err}
				}
				req = res.Request
			case dash < 0 && len(args) == 1:
				r, err := readRequestFile(args[0])
				if err != nil {
					return &ExitError{Code: 2, Err: err}
				}
				req = r
			default:
				return &ExitError{Code: 2, Err: errors.New("give a docker command after -- (dockward check -- docker run ...) or one request file")}
			}
			req.User = p.user
			if p.user != "" {
				req.UserAuthNMethod = "TLS"
			}
			return runCheck(cmd.Context(), cmd.OutOrStdout(), p, req)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.policyDir, "policy-dir", config.Default().PolicyDir, "policy directory to decide with")
	f.StringVar(&p.dockerHost, "docker-host", dockerHostDefault(), "daemon to read images, containers and volumes from (reads only; nothing is run)")
	f.StringVar(&p.user, "user", "", "decide as this user (a TLS CN, or a local user's name as dockward's identity broker names them): their level, exemptions and admin rights apply")
	f.StringSliceVar(&p.groups, "group", nil, "decide as a member of these groups (repeat or comma-separate; needs --user) instead of the user's groups in this host's /etc/group")
	f.StringVar(&p.level, "level", "", "judge at this level (privileged, baseline, restricted) whatever data.json assigns the user")
	f.BoolVar(&p.json, "json", false, "print the decision as JSON (--format json)")
	f.StringVar(&p.format, "format", "text", "text, json, or sarif (Compose files only: SARIF 2.1.0 for code scanning)")
	p.compose.bind(cmd)
	f.DurationVar(&p.timeout, "timeout", 30*time.Second, "how long the docker command may take to send its request")
	return cmd
}

// composeArgv reports docker compose ... or docker-compose ... .
func composeArgv(args []string) bool {
	base := filepath.Base(args[0])
	if base == "docker-compose" {
		return true
	}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-H" || a == "--host" || a == "-c" || a == "--context" || a == "--config" || a == "-l" || a == "--log-level":
			i++ // the flag's value
		case !strings.HasPrefix(a, "-"):
			return base == "docker" && a == "compose"
		}
	}
	return false
}

func (p *checkParams) resolveFormat() error {
	switch p.format {
	case "text", "json", "sarif":
	default:
		return fmt.Errorf("--format %q: expected text, json or sarif", p.format)
	}
	if p.json {
		p.format = "json"
	}
	p.json = p.format == "json"
	return nil
}

func runCheck(ctx context.Context, out io.Writer, p checkParams, req authorization.Request) error {
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
	res := l.plugin.Decide(req)
	d := res.Decision
	if p.json {
		if err := json.NewEncoder(out).Encode(checkJSON(res, c.Revision)); err != nil {
			return err
		}
	} else {
		printCheck(out, res, c.Revision)
	}
	switch {
	case res.Internal && d.Reason != "":
		return &ExitError{Code: 2, Err: errors.New(d.Reason)}
	case res.Internal:
		// A failed daemon lookup: the violations are printed above.
		return &ExitError{Code: 2, Err: errors.New("dockward could not establish every fact the decision needs (see request_lookup_failed above)")}
	case !d.Allow:
		return &ExitError{Code: 1, Err: errors.New("the policy would deny this request"), Silent: true}
	}
	return nil
}

func checkJSON(res authz.Result, revision string) map[string]any {
	d := res.Decision
	return map[string]any{
		"allow": d.Allow, "decision": d.Outcome(), "endpoint": res.Event.Endpoint, "image": res.Event.Image,
		"violations": nonNilV(d.Violations), "dryrun": nonNilV(d.DryRun), "exempted": nonNilV(d.Exempted),
		"reason": d.Reason, "policy_revision": revision,
		"level": d.Level, "user": d.User, "groups": nonNilS(d.Groups),
	}
}

func printCheck(out io.Writer, res authz.Result, revision string) {
	d := res.Decision
	what := res.Event.Method + " " + res.Event.Path
	if res.Event.Endpoint != "" {
		what = res.Event.Endpoint
	}
	if res.Event.Image != "" {
		what += " (image " + res.Event.Image + ")"
	}
	if d.Allow {
		fmt.Fprintf(out, "ALLOWED: %s\n", what)
		if j := d.Judged(); j != "" {
			fmt.Fprintf(out, "  %s\n", j)
		}
	} else {
		fmt.Fprintf(out, "DENIED: %s\n", what)
		fmt.Fprintln(out, indent(d.Message("")))
	}
	for _, v := range d.DryRun {
		fmt.Fprintf(out, "  dry-run (not enforced): [%s] %s — fix: %s\n", v.ID, v.Msg, v.Fix)
	}
	for _, v := range d.Exempted {
		fmt.Fprintf(out, "  exempted (%s): [%s] %s\n", v.Exemption, v.ID, v.Msg)
	}
	fmt.Fprintf(out, "policy revision %s\n", short(revision))
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ")
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// readRequestFile reads a raw API request: the fixture form (RequestBody as
// JSON) or the protocol form (RequestBody base64).
func readRequestFile(path string) (authorization.Request, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return authorization.Request{}, err
	}
	var f struct {
		RequestMethod  string
		RequestURI     string `json:"RequestUri"`
		RequestHeaders map[string]string
		RequestBody    json.RawMessage
		User           string
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return authorization.Request{}, fmt.Errorf("%s: not a request file: %w", path, err)
	}
	req := authorization.Request{RequestMethod: f.RequestMethod, RequestURI: f.RequestURI, RequestHeaders: f.RequestHeaders}
	if len(f.RequestBody) > 0 && f.RequestBody[0] == '"' {
		var s string
		_ = json.Unmarshal(f.RequestBody, &s)
		if req.RequestBody, err = base64.StdEncoding.DecodeString(s); err != nil {
			return req, fmt.Errorf("%s: RequestBody is a string but not base64: %w", path, err)
		}
	} else if len(f.RequestBody) > 0 && string(f.RequestBody) != "null" {
		req.RequestBody = f.RequestBody
	}
	if req.RequestHeaders == nil {
		req.RequestHeaders = map[string]string{"Content-Type": "application/json"}
	}
	return req, nil
}

func dockerHostDefault() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return config.Default().DockerHost
}
