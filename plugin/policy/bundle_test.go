package policy

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

// bundleFiles builds dir into a bundle and reads it back the way the bundle
// plugin does, returning its files and data.
func bundleFiles(t *testing.T, dir string, opts BundleOptions) (map[string][]byte, map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := BuildBundle(t.Context(), dir, &buf, opts); err != nil {
		t.Fatalf("BuildBundle: %v", err)
	}
	b, err := bundle.NewReader(&buf).Read()
	if err != nil {
		t.Fatalf("read the bundle back: %v", err)
	}
	files := map[string][]byte{}
	for _, m := range b.Modules {
		files["authz"+m.Path] = m.Raw
	}
	return files, b.Data, b.Manifest.Revision
}

const privilegedCreate = `{"route":{"endpoint":"container.create"},"container":{"privileged":true}}`

func TestCompileBundleMatchesLoad(t *testing.T) {
	t.Parallel()
	local, err := Load(t.Context(), minimal)
	if err != nil {
		t.Fatal(err)
	}
	files, data, rev := bundleFiles(t, minimal, BundleOptions{Revision: "v1"})
	if rev != "v1" {
		t.Errorf("manifest revision %q, want v1", rev)
	}
	for p := range files {
		if strings.HasSuffix(p, "_test.rego") {
			t.Errorf("the bundle carries the test %s", p)
		}
	}
	c, err := CompileBundle(t.Context(), "bundle authz", map[string]string{"authz": rev}, files, data)
	if err != nil {
		t.Fatalf("CompileBundle: %v", err)
	}
	if c.Source != SourceBundle || !strings.HasPrefix(c.Revision, "authz@v1/") || len(c.Revision) != len("authz@v1/")+64 {
		t.Errorf("source %q revision %q, want bundle and authz@v1/<sha256>", c.Source, c.Revision)
	}
	if strings.Join(c.Rules, ",") != strings.Join(local.Rules, ",") {
		t.Errorf("rules from the bundle %v, from the directory %v", c.Rules, local.Rules)
	}
	d, err := c.Eval(t.Context(), mustJSON(t, privilegedCreate))
	if err != nil || d.Allow || len(d.Violations) != 1 || d.Violations[0].ID != "no_privileged" {
		t.Errorf("bundle policy on a privileged create: %+v, %v", d, err)
	}
	// Same content, same revision; other data, another one.
	again, err := CompileBundle(t.Context(), "bundle authz", map[string]string{"authz": rev}, files, data)
	if err != nil || again.Revision != c.Revision {
		t.Errorf("recompiling the same bundle: revision %q, want %q (%v)", again.Revision, c.Revision, err)
	}
	other, err := CompileBundle(t.Context(), "bundle authz", map[string]string{"authz": rev}, files, map[string]any{"authz_config": map[string]any{}})
	if err != nil || other.Revision == c.Revision {
		t.Errorf("other data kept the revision %q (%v)", other.Revision, err)
	}
}

// TestCompileBundleFailsClosed: a bundle meets the checks the directory
// meets, so a fleet can never be handed a policy a host would refuse locally.
func TestCompileBundleFailsClosed(t *testing.T) {
	t.Parallel()
	files, data, _ := bundleFiles(t, minimal, BundleOptions{})
	with := func(path, src string) map[string][]byte {
		out := map[string][]byte{}
		for k, v := range files {
			out[k] = v
		}
		out[path] = []byte(src)
		return out
	}
	tests := []struct {
		name  string
		files map[string][]byte
		data  map[string]any
		want  string
	}{
		{"rule without METADATA", with("authz/authz/rules/container/y/y.rego",
			"package authz.rules.container.y\ndeny contains 1 if false\n"), data, "lacks METADATA"},
		{"strict-mode error", with("authz/authz/rules/container/x/x.rego",
			"# METADATA\n# title: x\n# custom:\n#  fix: f\n#  severity: low\n#  levels: [restricted]\npackage authz.rules.container.x\nimport data.foo\ndeny contains 1 if false\n"), data, "import data.foo unused"},
		{"no decision", with("authz/authz/main.rego", "package authz\nx := 1\n"), data, "defines data.authz.decision"},
		{"syntax error", with("authz/authz/main.rego", "package authz\ndecision := {"), data, "parse bundle authz"},
		{"invalid data.json", files, map[string]any{"authz_config": map[string]any{"modes": map[string]any{"no_privileged": "warn"}}}, `modes.no_privileged is "warn"`},
		{"no modules", map[string][]byte{}, data, "no .rego policy files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := CompileBundle(t.Context(), "bundle authz", map[string]string{"authz": "x"}, tt.files, tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("test modules are left out, as the loader leaves them out", func(t *testing.T) {
		t.Parallel()
		fs := with("authz/authz/rules/container/no_privileged/extra_test.rego", "package broken {")
		if _, err := CompileBundle(t.Context(), "bundle authz", nil, fs, data); err != nil {
			t.Fatalf("a broken test module failed the bundle: %v", err)
		}
	})
}

func TestBuildBundleRefusesWhatHostsWouldReject(t *testing.T) {
	t.Parallel()
	dir := testutil.CopyTree(t, minimal)
	write(t, filepath.Join(dir, "authz/rules/container/y/y.rego"), "package authz.rules.container.y\ndeny contains 1 if false\n")
	err := BuildBundle(t.Context(), dir, io.Discard, BundleOptions{})
	if err == nil || !strings.Contains(err.Error(), "lacks METADATA") {
		t.Fatalf("err = %v, want the METADATA check", err)
	}
}

func TestBuildBundleSigned(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := BuildBundle(t.Context(), minimal, &buf, BundleOptions{Revision: "s", SigningKey: "secret", SigningAlg: "HS256", KeyID: "fleet"})
	if err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	verify := func(key string) error {
		vc := bundle.NewVerificationConfig(map[string]*bundle.KeyConfig{"fleet": {Key: key, Algorithm: "HS256"}}, "fleet", "", nil)
		_, err := bundle.NewReader(bytes.NewReader(raw)).WithBundleVerificationConfig(vc).Read()
		return err
	}
	if err := verify("secret"); err != nil {
		t.Errorf("the right key does not verify: %v", err)
	}
	if err := verify("wrong"); err == nil {
		t.Errorf("a wrong key verified the bundle")
	}
}

// TestReloadLeavesBundleInForce: once a bundle decides, an edit of the
// policy directory (or SIGHUP) does not swap the local policy back in.
func TestReloadLeavesBundleInForce(t *testing.T) {
	t.Parallel()
	files, data, _ := bundleFiles(t, minimal, BundleOptions{Revision: "b"})
	b, err := CompileBundle(t.Context(), "bundle authz", map[string]string{"authz": "b"}, files, data)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(b)
	log := logrus.New()
	log.SetOutput(io.Discard)
	r := &Reloader{Engine: e, Dir: testutil.CopyTree(t, minimal), Log: log}
	if err := r.Reload(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	if e.Current() != b {
		t.Fatalf("reload replaced the bundle policy with %s (%s)", e.Current().Source, e.Current().Revision)
	}
	// Before any bundle, the directory reloads as always; a local policy
	// loaded while a bundle swapped in does not overwrite it.
	local, err := Load(t.Context(), minimal)
	if err != nil {
		t.Fatal(err)
	}
	e.Swap(local)
	if e.CompareAndSwap(b, local) {
		t.Fatal("CompareAndSwap succeeded against a stale policy")
	}
}

func TestUnavailableDenies(t *testing.T) {
	t.Parallel()
	c := Unavailable("no policy bundle activated yet from x")
	d, err := c.Eval(t.Context(), mustJSON(t, `{}`))
	if err != nil || d.Allow || d.Reason != "no policy bundle activated yet from x" {
		t.Fatalf("Unavailable: %+v, %v", d, err)
	}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
