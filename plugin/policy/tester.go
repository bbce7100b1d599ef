package policy

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is one Rego test's outcome.
type TestResult struct {
	Name     string // package.test_name
	Location string // file:line
	Pass     bool
	Skip     bool
	Err      string
	Output   string // what the test print()ed: shown for failures
}

// TestReport is the outcome of a test run.
type TestReport struct {
	Results []TestResult
	// Coverage is the percentage of policy lines the tests evaluated, and
	// Files the same per file; set only when asked for.
	Coverage float64
	Files    map[string]float64
}

// RunTests runs every test_* rule in dir (policies and their _test.rego files
// together, as `opa test` does) and returns one result per test.
func RunTests(ctx context.Context, dir string) ([]TestResult, error) {
	r, err := RunTestsWithCoverage(ctx, dir, false)
	return r.Results, err
}

// RunTestsWithCoverage is RunTests, measuring line coverage when coverage is set.
func RunTestsWithCoverage(ctx context.Context, dir string, coverage bool) (TestReport, error) {
	modules, store, err := tester.Load([]string{dir}, func(_ string, info fs.FileInfo, _ int) bool {
		if info.IsDir() {
			return strings.HasPrefix(info.Name(), ".") && info.Name() != "."
		}
		return !strings.HasSuffix(info.Name(), ".rego") && info.Name() != "data.json"
	})
	if err != nil {
		return TestReport{}, fmt.Errorf("load policies and tests: %w", err)
	}
	runner := tester.NewRunner().SetStore(store).RaiseBuiltinErrors(true).CapturePrintOutput(true)
	var cov *cover.Cover
	if coverage {
		cov = cover.New()
		runner = runner.SetCoverageQueryTracer(cov)
	}
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return TestReport{}, fmt.Errorf("open the test store: %w", err)
	}
	defer store.Abort(ctx, txn)
	ch, err := runner.SetModules(modules).RunTests(ctx, txn)
	if err != nil {
		return TestReport{}, fmt.Errorf("run tests: %w", err)
	}
	var report TestReport
	for r := range ch {
		tr := TestResult{Name: r.Package + "." + r.Name, Pass: r.Pass(), Skip: r.Skip, Output: string(r.Output)}
		if r.Location != nil {
			tr.Location = fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
		}
		switch {
		case r.Error != nil:
			tr.Err = r.Error.Error()
		case r.Fail:
			tr.Err = "test failed (a rule body was false)"
		}
		report.Results = append(report.Results, tr)
	}
	if cov != nil {
		// Coverage counts policy files only: a test file covers itself.
		cr := cov.Report(modules)
		report.Files = map[string]float64{}
		covered, total := 0, 0
		for name, fr := range cr.Files {
			if strings.HasSuffix(name, "_test.rego") {
				continue
			}
			report.Files[name] = fr.Coverage
			covered += fr.CoveredLines
			total += fr.CoveredLines + fr.NotCoveredLines
		}
		if total > 0 {
			report.Coverage = 100 * float64(covered) / float64(total)
		}
	}
	return report, nil
}
