package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/daemonconfig"
)

func newDaemonConfig() *cobra.Command {
	var file, name string
	var identity, keepIdentity bool
	idp := newIdentityParams()
	cmd := &cobra.Command{
		Use:   "daemon-config enable|disable",
		Short: "Add or remove dockward in dockerd's daemon.json (authorization-plugins, identity)",
		Long: `Add or remove the plugin in the "authorization-plugins" list of daemon.json,
keeping every other setting (a backup is written next to the file). dockerd
applies the change on SIGHUP (systemctl reload docker).

With --identity, enable also merges the identity broker's settings (README,
"Identity"): hosts (dockerd's root-only unix socket and its loopback TLS
listener), tlsverify, tlscacert, tlscert, tlskey from the PKI directory, and
group root. A key you already set to something else is refused, not
overwritten. disable takes dockward's identity settings out as well (those
whose tlscacert is the PKI directory's ca.pem) unless --keep-identity;
disable --identity takes out only them and keeps the plugin: the way back
to dockerd on its own socket when the broker cannot run. Identity changes need a
dockerd restart (systemctl restart docker), not a reload, and the broker
stopped (systemctl disable --now dockward-broker), so that dockerd serves
/var/run/docker.sock itself again.

Note: dockerd refuses to start when a setting is both a flag and in daemon.json;
if dockerd runs with --authorization-plugin (or -H), do not use this command.`,
		Example: `  dockward daemon-config enable
  dockward daemon-config enable --identity
  dockward daemon-config disable --file /etc/docker/daemon.json
  dockward daemon-config disable --keep-identity   # only the plugin
  dockward daemon-config disable --identity        # only the identity settings`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"enable", "disable"},
		PreRunE: func(cmd *cobra.Command, args []string) error {
			// disable is the way out of a broken setup: it needs only
			// pki_dir, so an unsafe layout does not stop it.
			if len(args) == 1 && args[0] == "disable" {
				return idp.resolveWith(cmd, config.Identity.Validate)
			}
			return idp.resolve(cmd)
		},
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
			if identity && args[0] == "enable" {
				// The identity settings first: if they conflict with the
				// operator's, nothing is changed at all.
				changed, err := daemonconfig.EnableIdentity(file, idp.daemonIdentity())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s: identity (hosts unix://%s and %s, tlsverify with %s)%s\n", file, state(changed), idp.id.RawSocket, idp.id.Upstream, idp.id.PKIDir, restartNote(changed))
			}
			if identity && keepIdentity {
				return &ExitError{Code: 2, Err: fmt.Errorf("--identity and --keep-identity contradict each other: pick one")}
			}
			// disable --identity takes out only the identity settings.
			if !(identity && args[0] == "disable") {
				changed, err := op(file, name)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s %s\n", file, state(changed), args[0], name)
			}
			if args[0] == "disable" && !keepIdentity {
				changed, err := daemonconfig.DisableIdentity(file, idp.id.PKIDir)
				if err != nil {
					return err
				}
				if changed {
					fmt.Fprintf(cmd.OutOrStdout(), "%s updated: identity settings removed; stop the broker (systemctl disable --now dockward-broker), then restart dockerd (systemctl restart docker)\n", file)
				} else if identity {
					fmt.Fprintf(cmd.OutOrStdout(), "%s unchanged: no identity settings of dockward's (tlscacert %s/ca.pem)\n", file, idp.id.PKIDir)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "/etc/docker/daemon.json", "daemon.json to edit")
	cmd.Flags().StringVar(&name, "name", "dockward", "plugin name to add or remove")
	cmd.Flags().BoolVar(&identity, "identity", false, "enable: also merge the identity broker's settings (hosts, TLS); disable: take out only those, keep the plugin")
	cmd.Flags().BoolVar(&keepIdentity, "keep-identity", false, "disable: keep the identity settings, remove only the plugin")
	idp.bind(cmd.Flags(), "config", "pki-dir", "upstream", "raw-socket")
	return cmd
}

func state(changed bool) string {
	if changed {
		return "updated"
	}
	return "unchanged"
}

func restartNote(changed bool) string {
	if changed {
		return " (restart dockerd to apply: systemctl restart docker)"
	}
	return ""
}
