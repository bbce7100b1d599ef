package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/bench"
	"github.com/dockward/dockward/plugin/config"
)

type soakParams struct {
	policyDir   string
	requests    int64
	every       int64
	concurrency int
	maxRSSMiB   float64
	mix         string
	dockerHost  string
	serveFlags  []string
	corpus      string
}

func newSoak() *cobra.Command {
	p := soakParams{}
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Drive dockward for a number of decisions and watch its memory",
		Long: `Start dockward (serve, on a temporary socket) and drive it with the bench
mix plus reads it has never seen (inspects of ever-different container ids,
which fill and cycle the read cache) until --requests decisions are answered.
After every --every decisions it prints the resident set size (VmRSS) and
the CPU time per request.

--mix replay drives the replayed mix (see dockward bench) instead, with
reads of ever-different objects and compliant creates under ever-different
names, so every cache (reads, decisions, lookups) fills and turns over; its
lookups go to --docker-host, which must hold the corpus's objects.

Fails (exit 1) on any wrong answer, when the RSS ends above --max-rss, or
when it grew by more than 10% between the first and the last chunk.`,
		Example: `  dockward bench soak --policy-dir ./policies
  dockward bench soak --policy-dir ./policies --requests 200000 --every 20000
  dockward bench soak --mix replay --docker-host unix:///tmp/isolated/docker.sock`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSoak(cmd, p) },
	}
	f := cmd.Flags()
	f.StringVar(&p.policyDir, "policy-dir", config.Default().PolicyDir, "policies for the dockward under test")
	f.Int64Var(&p.requests, "requests", 1_000_000, "decisions to drive in all")
	f.Int64Var(&p.every, "every", 100_000, "report memory after this many decisions")
	f.IntVar(&p.concurrency, "concurrency", 8, "concurrent clients")
	f.Float64Var(&p.maxRSSMiB, "max-rss", 40, "fail when the RSS ends above this many MiB")
	f.StringVar(&p.mix, "mix", "synthetic", "synthetic (the bench mix and unique reads) or replay (the replayed mix, unique reads and unique creates; needs --docker-host)")
	f.StringVar(&p.dockerHost, "docker-host", "", "daemon dockward looks things up in (--mix replay): an isolated dockerd holding the corpus's objects, never a production one")
	f.StringArrayVar(&p.serveFlags, "serve-flag", nil, "a flag for the dockward serve under test, repeatable")
	f.StringVar(&p.corpus, "corpus", "", "replay this JSONL corpus (dockward bench record) instead of the committed one (--mix replay)")
	return cmd
}

func runSoak(cmd *cobra.Command, p soakParams) error {
	if p.every <= 0 || p.requests < p.every {
		return &ExitError{Code: 2, Err: fmt.Errorf("--every must be positive and at most --requests")}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if p.policyDir, err = filepath.Abs(p.policyDir); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "dockward-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var mix []bench.Kind
	args := dockwardUnderTest(dir, p.policyDir)
	switch p.mix {
	case "synthetic":
		mix, err = bench.SoakMix()
	case "replay":
		if p.dockerHost == "" {
			return &ExitError{Code: 2, Err: fmt.Errorf("--mix replay needs --docker-host: a daemon holding the corpus's objects (TestBenchReplay in plugin/e2e sets one up)")}
		}
		args = withDockerHost(args, p.dockerHost)
		var recs []bench.Record
		if p.corpus == "" {
			recs, err = bench.ReplayCorpus()
		} else if b, rerr := os.ReadFile(p.corpus); rerr != nil {
			err = rerr
		} else {
			recs, err = bench.ParseCorpus(b)
		}
		if err == nil {
			mix, err = bench.ReplaySoakMix(recs)
		}
	default:
		return &ExitError{Code: 2, Err: fmt.Errorf("unknown --mix %q: use synthetic or replay", p.mix)}
	}
	if err != nil {
		return err
	}
	dw, sock, err := startBenchProc(self, dir, "dockward", append(args, p.serveFlags...)...)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer func() { _ = dw.Process.Kill(); _ = dw.Wait() }()
	out := cmd.OutOrStdout()
	const row = "%10s %8s %11s %8s\n"
	fmt.Fprintf(out, row, "decisions", "req/s", "CPU µs/req", "RSS MiB")
	t := bench.Target{Name: "dockward", Socket: sock, PID: dw.Process.Pid}
	var first, last float64
	var done int64
	for done < p.requests {
		n := min(p.every, p.requests-done)
		r, err := bench.RunN(cmd.Context(), t, mix, p.concurrency, n)
		if err != nil {
			return err
		}
		if r.Errors > 0 {
			return &ExitError{Code: 1, Err: fmt.Errorf("dockward answered %d requests wrongly or not at all; first: %s", r.Errors, r.FirstErr)}
		}
		done += n
		last = float64(r.RSS) / (1 << 20)
		if first == 0 {
			first = last
		}
		fmt.Fprintf(out, row, fmt.Sprint(done), fmt.Sprintf("%.0f", r.RPS),
			fmt.Sprintf("%.1f", float64(r.CPUPerReq.Nanoseconds())/1000), fmt.Sprintf("%.1f", last))
	}
	fmt.Fprintf(out, "\nRSS after the first %d decisions %.1f MiB, after %d: %.1f MiB (%+.1f%%)\n",
		p.every, first, done, last, 100*(last-first)/first)
	switch {
	case last > p.maxRSSMiB:
		return &ExitError{Code: 1, Err: fmt.Errorf("RSS %.1f MiB is above --max-rss %.0f MiB", last, p.maxRSSMiB)}
	case last > first*1.10:
		return &ExitError{Code: 1, Err: fmt.Errorf("RSS grew %.1f%% between the first and the last %d decisions", 100*(last-first)/first, p.every)}
	}
	return nil
}
