package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/policy"
)

func newPolicy() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test and check Rego policies",
		Example: `  dockward policy test ./policies
  dockward policy check ./policies`,
	}
	cmd.AddCommand(newPolicyTest(), newPolicyCheck(), newPolicyFmt())
	return cmd
}

func newPolicyTest() *cobra.Command {
	var verbose, coverage bool
	cmd := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the Rego tests (*_test.rego) in a policy directory",
		Example: `  dockward policy test                  # /etc/dockward/policies
  dockward policy test ./policies -v
  dockward policy test ./policies --coverage`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dirArg(args)
			report, err := policy.RunTestsWithCoverage(cmd.Context(), dir, coverage)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			results := report.Results
			out := cmd.OutOrStdout()
			failed := 0
			for _, r := range results {
				switch {
				case r.Skip:
					if verbose {
						fmt.Fprintf(out, "SKIP %s\n", r.Name)
					}
				case !r.Pass:
					failed++
					fmt.Fprintf(out, "FAIL %s (%s): %s\n", r.Name, r.Location, r.Err)
					if r.Output != "" {
						fmt.Fprintf(out, "  printed:\n    %s\n", strings.ReplaceAll(strings.TrimSpace(r.Output), "\n", "\n    "))
					}
				case verbose:
					fmt.Fprintf(out, "PASS %s\n", r.Name)
				}
			}
			fmt.Fprintf(out, "%d tests, %d passed, %d failed\n", len(results), len(results)-failed, failed)
			if coverage {
				files := make([]string, 0, len(report.Files))
				for f := range report.Files {
					files = append(files, f)
				}
				sort.Strings(files)
				for _, f := range files {
					fmt.Fprintf(out, "  %6.1f%%  %s\n", report.Files[f], f)
				}
				fmt.Fprintf(out, "coverage: %.1f%% of policy lines\n", report.Coverage)
			}
			if failed > 0 || len(results) == 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d policy tests failed", failed, len(results))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every test")
	cmd.Flags().BoolVar(&coverage, "coverage", false, "report the share of policy lines the tests evaluate")
	return cmd
}

func newPolicyCheck() *cobra.Command {
	return &cobra.Command{
		Use:     "check [DIR]",
		Short:   "Compile a policy directory with the plugin's own loader",
		Long:    "Compile the policies and data exactly as `dockward serve` does: what passes here loads in the plugin.",
		Example: `  dockward policy check ./policies`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := policy.Load(cmd.Context(), dirArg(args))
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d rules, revision %s\n", len(c.Rules), c.Revision[:12])
			return nil
		},
	}
}

func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "/etc/dockward/policies"
}

func newPolicyFmt() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt [DIR]",
		Short: "Format the Rego files in a policy directory (opa fmt)",
		Example: `  dockward policy fmt ./policies
  dockward policy fmt --check ./policies   # exit 1 if anything is not formatted`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			changed, err := policy.Format(dirArg(args), !check)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			for _, f := range changed {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			if check && len(changed) > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("%d files are not formatted", len(changed))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "only list unformatted files; exit 1 if there are any")
	return cmd
}
