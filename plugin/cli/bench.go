package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockward/dockward/plugin/bench"
	"github.com/dockward/dockward/plugin/config"
)

type benchParams struct {
	policyDir   string
	duration    time.Duration
	concurrency int
	rounds      int
	json        bool
	mix         string
	dockerHost  string
	perKind     bool
	serveFlags  []string
}

func newBench() *cobra.Command {
	p := benchParams{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the plugin against an always-allow plugin on the same protocol",
		Long: `Start dockward (serve, on a temporary socket) and the floor — an always-allow
plugin built on the same protocol library — and drive both over their unix
sockets with a realistic mix of Docker API calls (container creates as the
docker CLI sends them, compliant and not; list, inspect, _ping, version, exec
create; AuthZRes calls), alternating rounds. Every answer is checked: a wrong
allow or deny counts as an error, never as speed.

--mix replay replays requests captured from a real dockerd while the docker
CLI ran a typical session (plugin/bench/testdata/replay): creates compliant
and denied, exec, start/stop/update/rm, volumes, reads, and the AuthZRes after
every allowed request. dockward's lookups go to --docker-host, which must hold
the session's objects (TestBenchReplay in plugin/e2e does this for you).

Reports requests/s, latency percentiles per kind, CPU time per request and RSS
(from /proc), the medians over rounds, and dockward's ratios to the floor.`,
		Example: `  dockward bench --policy-dir ./policies
  dockward bench --policy-dir ./policies --concurrency 1 --duration 5s --rounds 5
  dockward bench --policy-dir ./policies --json > bench.json
  dockward bench --policy-dir ./policies --mix replay --docker-host unix:///tmp/isolated/docker.sock --per-kind --concurrency 1
  # every decision evaluated afresh (no decision or lookup cache):
  dockward bench --mix replay --docker-host unix:///tmp/isolated/docker.sock --serve-flag=--decision-cache-ttl=0 --serve-flag=--lookup-cache-ttl=0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, p) },
	}
	f := cmd.Flags()
	f.StringVar(&p.policyDir, "policy-dir", config.Default().PolicyDir, "policies for the dockward under test")
	f.DurationVar(&p.duration, "duration", 5*time.Second, "length of one round")
	f.IntVar(&p.concurrency, "concurrency", 8, "concurrent clients")
	f.IntVar(&p.rounds, "rounds", 3, "rounds per plugin (alternating)")
	f.BoolVar(&p.json, "json", false, "print every round as JSON")
	f.StringVar(&p.mix, "mix", "synthetic", "request mix: synthetic (hand-built, mostly cached reads) or replay (captured from dockerd, plugin/bench/testdata/replay)")
	f.BoolVar(&p.perKind, "per-kind", false, "after the rounds, run each kind alone against both plugins (half a round each) for CPU per request and p99 by kind")
	f.StringArrayVar(&p.serveFlags, "serve-flag", nil, "a flag for the dockward serve under test, repeatable: --serve-flag=--decision-cache-ttl=0 --serve-flag=--lookup-cache-ttl=0 measures every decision uncached")
	f.StringVar(&p.dockerHost, "docker-host", "", "daemon dockward looks things up in (image users, volumes, containers, execs); required by --mix replay: an isolated dockerd holding the corpus's objects, never a production one")
	floor := &cobra.Command{
		Use:    "floor --socket PATH",
		Short:  "Serve the always-allow floor plugin (used by dockward bench)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock, _ := cmd.Flags().GetString("socket")
			l, err := net.Listen("unix", sock)
			if err != nil {
				return err
			}
			return bench.ServeFloor(l)
		},
	}
	floor.Flags().String("socket", "", "unix socket to serve on")
	record := &cobra.Command{
		Use:    "record --socket PATH --out FILE",
		Short:  "Serve an always-allow plugin that appends every call to FILE as JSONL (captures the replay corpus)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock, _ := cmd.Flags().GetString("socket")
			out, _ := cmd.Flags().GetString("out")
			l, err := net.Listen("unix", sock)
			if err != nil {
				return err
			}
			return bench.ServeRecorder(l, out)
		},
	}
	record.Flags().String("socket", "", "unix socket to serve on")
	record.Flags().String("out", "", "JSONL file to append to")
	cmd.AddCommand(floor, record, newSoak())
	return cmd
}

func runBench(cmd *cobra.Command, p benchParams) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if p.policyDir, err = filepath.Abs(p.policyDir); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "dockward-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	start := func(name string, args ...string) (*exec.Cmd, string, error) {
		return startBenchProc(self, dir, name, args...)
	}
	var mix []bench.Kind
	switch p.mix {
	case "synthetic":
		mix, err = bench.Mix()
	case "replay":
		if p.dockerHost == "" {
			return &ExitError{Code: 2, Err: fmt.Errorf("--mix replay needs --docker-host: an isolated dockerd with the corpus's objects (see plugin/bench/testdata/replay/README.md), so lookups are real")}
		}
		var recs []bench.Record
		if recs, err = bench.ReplayCorpus(); err == nil {
			mix, err = bench.ReplayMix(recs)
		}
	default:
		return &ExitError{Code: 2, Err: fmt.Errorf("unknown --mix %q: use synthetic or replay", p.mix)}
	}
	if err != nil {
		return err
	}
	dwArgs := dockwardUnderTest(dir, p.policyDir)
	if p.dockerHost != "" {
		dwArgs = withDockerHost(dwArgs, p.dockerHost)
	}
	dwArgs = append(dwArgs, p.serveFlags...)
	dw, dwSock, err := start("dockward", dwArgs...)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer func() { _ = dw.Process.Kill(); _ = dw.Wait() }()
	fl, flSock, err := start("floor", "bench", "floor")
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer func() { _ = fl.Process.Kill(); _ = fl.Wait() }()

	targets := []bench.Target{
		{Name: "dockward", Socket: dwSock, PID: dw.Process.Pid},
		{Name: "floor", Socket: flSock, PID: fl.Process.Pid, Floor: true},
	}
	// Every answer is checked before timing: on the replay mix a lookup
	// the daemon cannot answer (an object of the corpus it lacks) makes
	// dockward deny, which must fail the run, not skew it.
	if bad := bench.Check(targets[0], mix); len(bad) > 0 {
		for _, m := range bad {
			fmt.Fprintf(cmd.ErrOrStderr(), "wrong answer: %s %s: allow=%v %s\n", m.Kind, m.URI, m.Allow, m.Err)
		}
		return &ExitError{Code: 1, Err: fmt.Errorf("dockward answered %d of the mix's %d requests otherwise than expected; with --mix replay, --docker-host must hold the corpus's objects (plugin/bench/testdata/replay/README.md)", len(bad), len(mix))}
	}
	var rounds []bench.Round
	for i := range p.rounds {
		for _, t := range targets {
			r, err := bench.Run(cmd.Context(), t, mix, p.concurrency, p.duration)
			if err != nil {
				return err
			}
			rounds = append(rounds, r)
			fmt.Fprintf(cmd.ErrOrStderr(), "round %d %-8s %8.0f req/s  %6.1f µs CPU/req  errors %d\n",
				i+1, t.Name, r.RPS, float64(r.CPUPerReq.Nanoseconds())/1000, r.Errors)
		}
	}
	out := cmd.OutOrStdout()
	var alone []bench.Round
	if p.perKind {
		fmt.Fprintf(out, "by kind, alone, concurrency %d, %s per plugin (CPU per request from /proc):\n", p.concurrency, p.duration/2)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kind\tCPU µs/req\tfloor\tratio\tp99\tfloor p99\tratio\t")
		for _, name := range bench.KindNames(mix) {
			var got [2]bench.Round
			for i, t := range targets {
				r, err := bench.Run(cmd.Context(), t, bench.OnlyKind(mix, name), p.concurrency, p.duration/2)
				if err != nil {
					return err
				}
				alone = append(alone, r) // its errors fail the run below; not in the medians
				got[i] = r
			}
			d, f := bench.GroupKinds(got[0].Kinds)[0], bench.GroupKinds(got[1].Kinds)[0]
			ratio := func(a, b time.Duration) string {
				if b <= 0 {
					return "-"
				}
				return fmt.Sprintf("%.2f×", float64(a)/float64(b))
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t\n", name, float64(got[0].CPUPerReq.Nanoseconds())/1000,
				float64(got[1].CPUPerReq.Nanoseconds())/1000, ratio(got[0].CPUPerReq, got[1].CPUPerReq),
				d.P99.Round(time.Microsecond), f.P99.Round(time.Microsecond), ratio(d.P99, f.P99))
		}
		tw.Flush()
		fmt.Fprintln(out)
	}
	if p.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rounds); err != nil {
			return err
		}
	} else {
		printBench(out, rounds, p)
	}
	for _, r := range append(rounds, alone...) {
		if r.Errors > 0 {
			return &ExitError{Code: 1, Err: fmt.Errorf("%s answered %d requests wrongly or not at all; first: %s", r.Target, r.Errors, r.FirstErr)}
		}
	}
	return nil
}

func median(rounds []bench.Round, target string, f func(bench.Round) float64) float64 {
	var v []float64
	for _, r := range rounds {
		if r.Target == target {
			v = append(v, f(r))
		}
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

func printBench(out io.Writer, rounds []bench.Round, p benchParams) {
	rps := func(r bench.Round) float64 { return r.RPS }
	cpu := func(r bench.Round) float64 { return float64(r.CPUPerReq.Nanoseconds()) / 1000 }
	mem := func(r bench.Round) float64 { return float64(r.RSS) / (1 << 20) }
	fmt.Fprintf(out, "concurrency %d, %d rounds of %s per plugin (medians)\n\n", p.concurrency, p.rounds, p.duration)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "plugin\treq/s\tCPU µs/req\tRSS MiB\t")
	for _, t := range []string{"dockward", "floor"} {
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.1f\t\n", t, median(rounds, t, rps), median(rounds, t, cpu), median(rounds, t, mem))
	}
	tw.Flush()
	if f := median(rounds, "floor", rps); f > 0 {
		fmt.Fprintf(out, "\nthroughput: dockward %.0f%% of the floor; CPU per request: %.1f× the floor\n",
			100*median(rounds, "dockward", rps)/f, median(rounds, "dockward", cpu)/median(rounds, "floor", cpu))
	}
	// Latency per kind, from each plugin's median-throughput round.
	pick := func(target string) bench.Round {
		want := median(rounds, target, rps)
		for _, r := range rounds {
			if r.Target == target && r.RPS == want {
				return r
			}
		}
		return bench.Round{}
	}
	dw, fl := pick("dockward"), pick("floor")
	dw.Kinds, fl.Kinds = bench.GroupKinds(dw.Kinds), bench.GroupKinds(fl.Kinds)
	fmt.Fprintln(out, "\nlatency by kind (each plugin's median round); p99 ratio = dockward p99 / floor p99:")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tcount\tdenied\tp50\tp90\tp99\tmax\tfloor p50\tfloor p99\tp99 ratio\t")
	us := func(d time.Duration) string { return d.Round(time.Microsecond).String() }
	for i, k := range dw.Kinds {
		var f bench.KindStats
		if i < len(fl.Kinds) {
			f = fl.Kinds[i]
		}
		ratio := "-"
		if f.P99 > 0 {
			ratio = fmt.Sprintf("%.1f×", float64(k.P99)/float64(f.P99))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", k.Name, k.Count, k.Denied, us(k.P50), us(k.P90), us(k.P99), us(k.Max),
			us(f.P50), us(f.P99), ratio)
	}
	tw.Flush()
}

// startBenchProc starts self with args and --socket DIR/NAME.sock, and
// waits until the socket answers.
func startBenchProc(self, dir, name string, args ...string) (*exec.Cmd, string, error) {
	sock := filepath.Join(dir, name+".sock")
	c := exec.Command(self, append(args, "--socket", sock)...)
	logf, _ := os.Create(filepath.Join(dir, name+".log"))
	c.Stdout, c.Stderr = logf, logf
	if err := c.Start(); err != nil {
		return nil, "", err
	}
	for range 100 {
		if conn, err := net.Dial("unix", sock); err == nil {
			conn.Close()
			return c, sock, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = c.Process.Kill()
	b, _ := os.ReadFile(filepath.Join(dir, name+".log"))
	return nil, "", fmt.Errorf("%s did not start:\n%s", name, b)
}

// dockwardUnderTest is how bench and soak run dockward: the given policies,
// an audit log in dir, no daemon to look anything up in (the mixes need
// none), warnings only.
func dockwardUnderTest(dir, policyDir string) []string {
	return []string{"serve", "--policy-dir", policyDir, "--audit-log", filepath.Join(dir, "audit.log"),
		"--docker-host", "unix://" + filepath.Join(dir, "no-daemon.sock"), "--log-level", "warn",
		"--owner-db", filepath.Join(dir, "owners.db"), "--control-socket", filepath.Join(dir, "control.sock")}
}

// withDockerHost replaces the --docker-host in args.
func withDockerHost(args []string, host string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if out[i] == "--docker-host" && i+1 < len(out) {
			out[i+1] = host
		}
	}
	return out
}
