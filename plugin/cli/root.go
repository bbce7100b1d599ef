// Package cli wires dockward's commands: each binds flags into a params
// struct and calls one package function.
package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/dockward/dockward/plugin/cli.Version=...".
var Version = "dev"

// ExitError carries a process exit code through cobra.
type ExitError struct {
	Code   int
	Err    error
	Silent bool // the command already said everything on stdout
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Execute runs the command line.
func Execute() error {
	return newRoot().Execute()
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "dockward",
		Short: "Admission control for plain Docker: deny containers that are not hardened",
		Long: `dockward is a Docker Engine authorization plugin. dockerd asks it about every
API request; it evaluates Rego policies and denies container runs that are not
hardened, telling the developer which rules failed and the flag that fixes each,
and writes every denial to an audit log.`,
		Example: `  # serve the plugin (what the systemd unit runs)
  dockward serve --policy-dir /etc/dockward/policies

  # run the policies' own tests
  dockward policy test /etc/dockward/policies`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServe(), newCheck(), newScan(), newAudit(), newPolicy(), newBench(), newDaemonConfig(), newVersion())
	root.AddCommand(newDoctor())
	root.AddCommand(newOwn())
	root.AddCommand(newBroker(), newIdentity())
	return root
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the dockward version",
		Example: "  dockward version",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "dockward", Version)
		},
	}
}
