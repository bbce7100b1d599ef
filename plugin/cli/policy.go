package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/policy"
)

func newPolicy() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test, check and bundle Rego policies",
		Example: `  dockward policy test ./policies
  dockward policy check ./policies
  dockward policy bundle ./policies --output bundle.tar.gz --revision v42`,
	}
	cmd.AddCommand(newPolicyTest(), newPolicyCheck(), newPolicyFmt(), newPolicyBundle())
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

type bundleParams struct {
	output string
	opts   policy.BundleOptions
}

func newPolicyBundle() *cobra.Command {
	var p bundleParams
	cmd := &cobra.Command{
		Use:   "bundle [DIR]",
		Short: "Build an OPA bundle (opa build format) of a policy directory for a bundle server",
		Long: `Build an OPA bundle of a policy directory: the gzipped tarball ` + "`opa build`" + ` writes
(.manifest, the .rego files, data.json), with the files the plugin loads (tests are
left out). The directory is compiled first with the plugin's own checks, so a bundle
that the hosts would reject is never built. Put the file on any HTTP server the
hosts' OPA config (dockward serve --opa-config) polls.

--signing-key signs the bundle (.signatures.json, a JWT over the files' hashes):
hosts whose OPA config has a verification key for it reject a bundle with a missing
or wrong signature, and keep their last good policy.`,
		Example: `  dockward policy bundle ./policies --output /srv/bundles/dockward.tar.gz --revision "$(git rev-parse --short HEAD)"
  openssl genrsa -out signing.pem 2048 && openssl rsa -in signing.pem -pubout -out verify.pem
  dockward policy bundle ./policies -o bundle.tar.gz --revision v42 \
      --signing-key signing.pem --signing-alg RS256 --signing-key-id fleet`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if p.output == "" {
				return &ExitError{Code: 2, Err: fmt.Errorf("--output is required")}
			}
			var buf bytes.Buffer
			if err := policy.BuildBundle(cmd.Context(), dirArg(args), &buf, p.opts); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			// Written whole and renamed: a bundle server never serves half a file.
			tmp, err := os.CreateTemp(filepath.Dir(p.output), ".bundle-*")
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			defer os.Remove(tmp.Name())
			if _, err := tmp.Write(buf.Bytes()); err != nil {
				tmp.Close()
				return &ExitError{Code: 2, Err: err}
			}
			if err := tmp.Close(); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			if err := os.Chmod(tmp.Name(), 0o644); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			if err := os.Rename(tmp.Name(), p.output); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			signed := "unsigned"
			if p.opts.SigningKey != "" {
				signed = "signed " + p.opts.SigningAlg
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes, revision %q, %s)\n", p.output, buf.Len(), p.opts.Revision, signed)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&p.output, "output", "o", "", "bundle file to write (.tar.gz)")
	f.StringVar(&p.opts.Revision, "revision", "", "revision in the bundle manifest (hosts report it in metrics, audit and decision logs)")
	f.StringVar(&p.opts.SigningKey, "signing-key", "", "sign the bundle with this key: a PEM private key file (RS*, ES*, PS*) or an HMAC secret (HS*)")
	f.StringVar(&p.opts.SigningAlg, "signing-alg", "RS256", "signature algorithm")
	f.StringVar(&p.opts.KeyID, "signing-key-id", "", "keyid claim of the signature: the key's name under keys: in the hosts' OPA config")
	return cmd
}
