package policy

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is one Rego test's outcome.
type TestResult struct {
	Name     string // package.test_name
	Location string // file:line
	Pass     bool
	Skip     bool
	Err      string
}

// RunTests runs every test_* rule in dir (policies and their _test.rego files
// together, as `opa test` does) and returns one result per test.
func RunTests(ctx context.Context, dir string) ([]TestResult, error) {
	modules, store, err := tester.Load([]string{dir}, func(_ string, info fs.FileInfo, _ int) bool {
		if info.IsDir() {
			return strings.HasPrefix(info.Name(), ".") && info.Name() != "."
		}
		return !strings.HasSuffix(info.Name(), ".rego") && info.Name() != "data.json"
	})
	if err != nil {
		return nil, fmt.Errorf("load policies and tests: %w", err)
	}
	ch, err := tester.NewRunner().SetStore(store).RaiseBuiltinErrors(true).Run(ctx, modules)
	if err != nil {
		return nil, fmt.Errorf("run tests: %w", err)
	}
	var out []TestResult
	for r := range ch {
		tr := TestResult{Name: r.Package + "." + r.Name, Pass: r.Pass(), Skip: r.Skip}
		if r.Location != nil {
			tr.Location = fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
		}
		switch {
		case r.Error != nil:
			tr.Err = r.Error.Error()
		case r.Fail:
			tr.Err = "test failed (a rule body was false)"
		}
		out = append(out, tr)
	}
	return out, nil
}
