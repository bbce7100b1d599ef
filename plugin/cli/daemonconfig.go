package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/daemonconfig"
)

func newDaemonConfig() *cobra.Command {
	var file, name string
	cmd := &cobra.Command{
		Use:   "daemon-config enable|disable",
		Short: "Add or remove dockward in dockerd's daemon.json (authorization-plugins)",
		Long: `Add or remove the plugin in the "authorization-plugins" list of daemon.json,
keeping every other setting (a backup is written next to the file). dockerd
applies the change on SIGHUP (systemctl reload docker).

Note: dockerd refuses to start when a setting is both a flag and in daemon.json;
if dockerd runs with --authorization-plugin, do not use this command.`,
		Example: `  dockward daemon-config enable
  dockward daemon-config disable --file /etc/docker/daemon.json`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"enable", "disable"},
		RunE: func(cmd *cobra.Command, args []string) error {
			var op func(string, string) (bool, error)
			switch args[0] {
			case "enable":
				op = daemonconfig.Enable
			case "disable":
				op = daemonconfig.Disable
			default:
				return &ExitError{Code: 2, Err: fmt.Errorf("unknown action %q: use enable or disable", args[0])}
			}
			changed, err := op(file, name)
			if err != nil {
				return err
			}
			state := "unchanged"
			if changed {
				state = "updated"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s %s\n", file, state, args[0], name)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "/etc/docker/daemon.json", "daemon.json to edit")
	cmd.Flags().StringVar(&name, "name", "dockward", "plugin name to add or remove")
	return cmd
}
