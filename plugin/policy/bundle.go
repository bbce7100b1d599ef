package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/compile"
)

// BundleOptions say how to build a bundle.
type BundleOptions struct {
	Revision string // the manifest's revision; the bundle server's hosts report it
	// SigningKey, when set, signs the bundle (.signatures.json): a PEM
	// private key, a path to one, or an HMAC secret.
	SigningKey string
	SigningAlg string // RS256 when empty
	KeyID      string // the "keyid" claim; hosts look the verification key up by it
}

// BuildBundle writes dir as an OPA bundle (the `opa build` tarball, target
// rego) to w, with the files the plugin's loader reads: tests and anything
// that is not policy are left out. It compiles first with Load, so a bundle
// that would be rejected by the hosts is never built.
func BuildBundle(ctx context.Context, dir string, w io.Writer, opts BundleOptions) error {
	if _, err := Load(ctx, dir); err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("policy directory: %w", err)
	}
	// Paths inside the bundle are relative to dir (/authz/main.rego), not
	// the build machine's.
	c := compile.New().
		WithFS(os.DirFS(dir)).
		WithPaths(".").
		WithFilter(skipNonPolicy).
		WithRevision(opts.Revision).
		WithRegoVersion(ast.RegoV1).
		WithOutput(w)
	if opts.SigningKey != "" {
		c = c.WithBundleSigningConfig(bundle.NewSigningConfig(opts.SigningKey, opts.SigningAlg, "")).
			WithBundleVerificationKeyID(opts.KeyID)
	}
	if err := c.Build(ctx); err != nil {
		return fmt.Errorf("build bundle from %s: %w", dir, err)
	}
	return nil
}

// CompileBundle compiles the modules and data that OPA's bundle plugin
// activated, through the same strict path as a policy directory (Compile).
// files maps a module's path to its source; test modules are left out, as
// the directory loader leaves them out. bundles maps each bundle name to its
// manifest revision. The revision says which bundles decided and hashes what
// they hold: "authz@v42/<sha256>".
func CompileBundle(ctx context.Context, origin string, bundles map[string]string, files map[string][]byte, data map[string]any) (*Compiled, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		if strings.HasSuffix(p, "_test.rego") || !strings.HasSuffix(p, ".rego") {
			continue
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	modules := make(map[string]*ast.Module, len(paths))
	for _, p := range paths {
		m, err := ast.ParseModuleWithOpts(p, string(files[p]), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", origin, err)
		}
		modules[p] = m
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(files[p]))
		h.Write(files[p])
	}
	b, err := json.Marshal(data) // map keys are sorted: a stable hash
	if err != nil {
		return nil, fmt.Errorf("hash bundle data: %w", err)
	}
	h.Write(b)
	c, err := Compile(ctx, origin, modules, data)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(bundles))
	for name, rev := range bundles {
		if rev == "" {
			rev = "unversioned"
		}
		names = append(names, name+"@"+rev)
	}
	sort.Strings(names)
	c.Source = SourceBundle
	c.Revision = strings.Join(names, ",") + "/" + hex.EncodeToString(h.Sum(nil))
	c.Bundles = bundles
	return c, nil
}
