package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/control"
	"github.com/dockward/dockward/plugin/owner"
)

type ownParams struct {
	user, socket string
	json         bool
}

func newOwn() *cobra.Command {
	p := &ownParams{socket: config.Default().ControlSocket}
	cmd := &cobra.Command{
		Use:   "own KIND NAME [--user USER]",
		Short: "Show, claim or reassign who owns a container, service, volume or network",
		Long: `Show who owns an object (without --user), or make USER its owner (an admin's
act: the store keeps who created each object, and owner_only lets a user who
is not an admin act only on their own). Objects made before dockward, or
whose record was lost, belong to nobody: only admins may act on them until
they are given to someone here.

KIND is container, service, volume or network; NAME is any reference the
daemon resolves (a name, an id or id prefix; a volume's name). It is
resolved by the serving dockward through its docker_host, so own talks to
dockward serve's root-only control socket (--control-socket; default
control_socket from ` + config.DefaultFile + `, else ` + control.DefaultSocket + `):
run it as root on the host dockward guards.`,
		Example: `  # who owns container web?
  sudo dockward own container web

  # give the container to alice (a TLS client CN / local user name)
  sudo dockward own container web --user alice

  # claim a volume and a network made before dockward for bob
  sudo dockward own volume data --user bob
  sudo dockward own network backend --user bob --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOwn(cmd, p, args[0], args[1])
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.user, "user", "", "make this user the owner (omit to show the current owner)")
	f.StringVar(&p.socket, "control-socket", p.socket, "dockward serve's control socket")
	f.BoolVar(&p.json, "json", false, "print the answer as JSON")
	return cmd
}

func runOwn(cmd *cobra.Command, p *ownParams, kind, ref string) error {
	if !owner.ValidKind(kind) {
		return &ExitError{Code: 2, Err: fmt.Errorf("unknown kind %q: expected container, service, volume or network", kind)}
	}
	if cmd.Flags().Changed("user") && p.user == "" {
		return &ExitError{Code: 2, Err: errors.New("--user is empty: name the user who is to own it")}
	}
	if !cmd.Flags().Changed("control-socket") {
		// Where serve listens: its config file says, as serve reads it.
		cfg := config.Default()
		if err := cfg.LoadFile(config.DefaultFile, false); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("%w (or name the socket with --control-socket)", err)}
		}
		p.socket = cfg.ControlSocket
	}
	ctx, cancel := context.WithTimeout(cmdContext(cmd), 15*time.Second)
	defer cancel()
	resp, err := control.Own(ctx, p.socket, control.OwnRequest{Kind: kind, Ref: ref, User: p.user})
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	out := cmd.OutOrStdout()
	if p.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	who := func(u string) string {
		if u == "" {
			return "nobody (admins only)"
		}
		return u
	}
	name := resp.Name
	if name == "" || name == resp.ID {
		name = ref
	}
	if p.user == "" {
		fmt.Fprintf(out, "%s %s (%s) belongs to %s\n", kind, name, resp.ID, who(resp.Owner))
		return nil
	}
	fmt.Fprintf(out, "%s %s (%s) now belongs to %s (was %s)\n", kind, name, resp.ID, who(resp.Owner), who(resp.Previous))
	return nil
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
