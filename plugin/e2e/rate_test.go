//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/bench"
)

// The rate test's own plugin name: its daemon asks this socket, whose
// server the test swaps between rounds (the always-allow floor, dockward).
// It carries the e2e plugin's suffix (dwrate-p1 for dockward-p1), so that
// helpers running rate or replay tests at once do not share one socket.
var (
	rateName   = "dwrate" + strings.TrimPrefix(pluginName, "dockward")
	rateSocket = "/run/docker/plugins/" + rateName + ".sock"
)

// rateBody is a hardened create as a client sends it: dockward allows it
// after evaluating every container rule (its numeric user needs no lookup).
var rateBody = `{"Image":"` + testImage + `","Cmd":["true"],"User":"1000:1000",
 "HostConfig":{"ReadonlyRootfs":true,"CapDrop":["ALL"],"SecurityOpt":["no-new-privileges"],
  "Memory":134217728,"NanoCpus":500000000,"PidsLimit":100}}`

// TestRateThroughDockerd (issue "Performance", point 4) measures direct API
// calls through a real dockerd with dockward as its authorization plugin
// against the same daemon with an always-allow plugin, in the same run:
// rounds alternate between the two plugins on the daemon's one plugin socket
// (in ABBA order), and the median ratio of round pairs is compared per
// workload, with each round's plugin and dockerd CPU per operation logged.
//
// Reads are held to dockward's CPU per read and, loosely, to rate (see
// maxReadCPURatio). Create+delete pairs are not gated on rate: 4 clients saturate
// the 2 CPUs, so their rate follows CPU per pair and swung 78-113% between
// runs (either engine), well inside any rate threshold a real regression
// would cross. They are gated on what dockward controls instead, its own
// CPU per pair against the floor plugin's in the same run: measured 2.5-3.7
// ms against 0.6-1.2 ms (plugin/BENCHMARKS.md), a median ratio of about
// 3-5x; held to maxPairCPURatio, which one more policy evaluation or a
// lookup per create would cross.
//
// DOCKWARD_E2E_RATE_SECONDS sets a round's length, DOCKWARD_E2E_RATE_WORKERS
// the number of clients (default 4).
func TestRateThroughDockerd(t *testing.T) {
	hs := env(t)
	if testing.Short() {
		t.Skip("rate measurement skipped in -short mode")
	}
	var roundLen time.Duration
	if v := os.Getenv("DOCKWARD_E2E_RATE_SECONDS"); v != "" {
		var s int
		if _, err := fmt.Sscan(v, &s); err == nil && s > 0 {
			roundLen = time.Duration(s) * time.Second
		}
	}
	d := startRateDaemon(t, hs)

	type workload struct {
		name   string
		op     func(c *http.Client) error
		want   float64 // the least rate ratio that passes; 0: not gated on rate
		maxCPU float64 // the largest plugin CPU per op, dockward over floor; 0: not gated on CPU
		rounds int
		dur    time.Duration
	}
	// Reads are cheap for dockerd, so the plugin's share, and the noise of
	// a round, are larger: more, shorter rounds.
	workloads := []workload{
		{"create+delete", func(c *http.Client) error { return createDelete(c) }, 0, maxPairCPURatio, 8, 3 * time.Second},
		{"GET /containers/json, /version, /images/json", func(c *http.Client) error { return gets(c) }, minReadRateRatio, maxReadCPURatio, 14, 2 * time.Second},
	}
	workers := 4
	if v := os.Getenv("DOCKWARD_E2E_RATE_WORKERS"); v != "" {
		if _, err := fmt.Sscan(v, &workers); err != nil || workers < 1 {
			t.Fatalf("DOCKWARD_E2E_RATE_WORKERS=%q: want a positive number", v)
		}
	}
	for _, w := range workloads {
		rounds, dur := w.rounds, w.dur
		if roundLen > 0 {
			dur = roundLen
		}
		rates := map[string][]float64{}
		cpuPerOp := map[string][]float64{} // plugin CPU per op, µs
		for r := 0; r < rounds; r++ {
			// ABBA order: the daemon slows as it ages (its per-call CPU
			// drifts up over a run), so neither plugin always goes second.
			order := []string{"floor", "dockward"}
			if r%2 == 1 {
				order = []string{"dockward", "floor"}
			}
			for _, which := range order {
				d.serve(t, which)
				pcpu0, err0 := bench.CPUTime(d.plugin.cmd.Process.Pid)
				dcpu0, _ := bench.CPUTime(d.daemon.cmd.Process.Pid)
				rate, ops, err := d.drive(workers, dur, w.op)
				if err != nil {
					t.Fatalf("%s with %s, round %d: %v\n%s", w.name, which, r+1, err, tail(d.pluginLog, 20))
				}
				pcpu1, err1 := bench.CPUTime(d.plugin.cmd.Process.Pid)
				dcpu1, _ := bench.CPUTime(d.daemon.cmd.Process.Pid)
				if w.maxCPU > 0 && (err0 != nil || err1 != nil) {
					t.Fatalf("CPU time of the %s plugin: %v %v", which, err0, err1)
				}
				pcpu, dcpu := pcpu1-pcpu0, dcpu1-dcpu0
				rates[which] = append(rates[which], rate)
				cpuPerOp[which] = append(cpuPerOp[which], perOp(pcpu, ops))
				t.Logf("%-48s round %d %-8s %7.1f ops/s  CPU per op: plugin %6.0f µs, dockerd %6.0f µs",
					w.name, r+1, which, rate, perOp(pcpu, ops), perOp(dcpu, ops))
			}
		}
		// Each round pair ran back to back, so its ratio cancels most of
		// the machine's drift; the median of the ratios is the result.
		var ratios []float64
		for i := range rates["floor"] {
			ratios = append(ratios, rates["dockward"][i]/rates["floor"][i])
		}
		ratio := median(ratios)
		t.Logf("%s: floor %.1f ops/s, dockward %.1f ops/s (medians); median ratio of round pairs %.0f%% (%d rounds of %s, %d clients)",
			w.name, median(rates["floor"]), median(rates["dockward"]), 100*ratio, rounds, dur, workers)
		cpuRatio := median(cpuPerOp["dockward"]) / median(cpuPerOp["floor"])
		t.Logf("%s: plugin CPU per op: floor %.0f µs, dockward %.0f µs (medians): %.1fx",
			w.name, median(cpuPerOp["floor"]), median(cpuPerOp["dockward"]), cpuRatio)
		if w.want > 0 && ratio < w.want {
			t.Errorf("%s: dockward reaches %.0f%% of the always-allow rate, want >= %.0f%%", w.name, 100*ratio, 100*w.want)
		}
		if w.maxCPU > 0 && !(cpuRatio <= w.maxCPU) { // NaN (a zero floor) fails too
			t.Errorf("%s: dockward spends %.1fx the floor plugin's CPU per op, want <= %.1fx", w.name, cpuRatio, w.maxCPU)
		}
	}
}

// maxPairCPURatio bounds dockward's CPU per create+delete pair as a
// multiple of the floor plugin's (measured medians ~3-5x; see above).
const maxPairCPURatio = 6.0

// Reads: the target is 90% of the floor's rate, and runs reach 88-109%
// (one CI run of the current engine gave 88% and the next 99%, with the
// same code and dockward's CPU per read at 1.4-1.5x the floor's): a rate
// gate at 90% fails on noise. Reads are gated on dockward's own CPU per
// read (measured 1.2-1.5x; a read that missed the cache, or a lookup on a
// read, would be several times the floor's), and on rate only for a gross
// regression.
const (
	maxReadCPURatio  = 2.0
	minReadRateRatio = 0.80
)

// rateDaemon is a second isolated dockerd whose authorization plugin is the
// test's own socket.
type rateDaemon struct {
	*harness
	plugin *proc // what serves rateSocket now
	daemon *proc
	policy string
	client *http.Client
}

func startRateDaemon(t *testing.T, hs *harness) *rateDaemon {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "dw-r-")
	if err != nil {
		t.Fatal(err)
	}
	d := &rateDaemon{harness: &harness{engine: hs.engine, dir: dir, dockerd: hs.dockerd, runc: hs.runc, binDir: hs.binDir,
		cli: hs.cli, dockward: hs.dockward, dockerSock: filepath.Join(dir, "docker.sock"),
		daemonLog: filepath.Join(dir, "dockerd.log"), pluginLog: filepath.Join(dir, "plugin.log"),
		auditLog: filepath.Join(dir, "audit.log")}, policy: filepath.Join(dir, "policies")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rate daemon log:\n%s", tail(d.daemonLog, 30))
		}
		if err := d.teardown(); err != nil {
			t.Errorf("rate daemon teardown: %v", err)
		}
		_ = os.Remove(rateSocket)
	})
	if err := checkSocketFree(rateSocket); err != nil {
		t.Fatal(err)
	}
	src, err := policySource()
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, d.policy); err != nil {
		t.Fatal(err)
	}
	d.serve(t, "dockward") // the daemon checks the plugin as it starts
	if d.daemon, err = d.startDockerd("dockerd-rate", rateName, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.importImage(); err != nil {
		t.Fatal(err)
	}
	d.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 16,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.dockerSock)
		},
	}}
	return d
}

// serve puts which ("floor" or "dockward") on the rate socket, replacing
// what served it, and waits until the daemon's calls reach it.
func (d *rateDaemon) serve(t *testing.T, which string) {
	t.Helper()
	if d.plugin != nil {
		d.plugin.stop(10 * time.Second)
		_ = os.Remove(rateSocket)
	}
	args := []string{"bench", "floor", "--socket", rateSocket}
	if which == "record" { // the replay corpus's recorder (bench_replay_test.go)
		args = []string{"bench", "record", "--socket", rateSocket, "--out", filepath.Join(d.dir, "record.jsonl")}
	}
	if which == "dockward" {
		args = []string{"serve", "--socket", rateSocket, "--policy-dir", d.policy, "--audit-log", d.auditLog,
			"--docker-host", "unix://" + d.dockerSock,
			"--owner-db", filepath.Join(d.dir, "owners.db"), "--control-socket", filepath.Join(d.dir, "control.sock")}
	}
	p, err := d.start(which, d.pluginLog, nil, d.dockward, args...)
	if err != nil {
		t.Fatal(err)
	}
	d.plugin = p
	if err := waitFor(15*time.Second, p, func() bool {
		c, err := net.DialTimeout("unix", rateSocket, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}); err != nil {
		t.Fatalf("%s on %s: %v\n%s", which, rateSocket, err, tail(d.pluginLog, 20))
	}
	if d.client != nil {
		// Warm up: the daemon's plugin client reconnects, dockward's
		// caches fill, exactly as in a long-running daemon.
		for i := 0; i < 20; i++ {
			if err := createDelete(d.client); err != nil {
				t.Fatalf("warm-up through %s: %v", which, err)
			}
			if err := gets(d.client); err != nil {
				t.Fatalf("warm-up through %s: %v", which, err)
			}
		}
	}
}

// drive runs op from workers clients for dur and returns operations/s and
// operations. Any failed operation is an error: a refusal is never counted
// as speed.
func (d *rateDaemon) drive(workers int, dur time.Duration, op func(*http.Client) error) (float64, int64, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := op(d.client); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), n.Load(), firstErr
}

func perOp(cpu time.Duration, ops int64) float64 {
	if ops == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(ops)
}

func createDelete(c *http.Client) error {
	b, err := call(c, http.MethodPost, "/v1.41/containers/create", rateBody, http.StatusCreated)
	if err != nil {
		return err
	}
	var created struct{ ID string }
	if err := json.Unmarshal(b, &created); err != nil || created.ID == "" {
		return fmt.Errorf("create answered %q", b)
	}
	_, err = call(c, http.MethodDelete, "/v1.41/containers/"+created.ID, "", http.StatusNoContent)
	return err
}

func gets(c *http.Client) error {
	for _, p := range []string{"/v1.41/containers/json?all=1", "/v1.41/version", "/v1.41/images/json"} {
		if _, err := call(c, http.MethodGet, p, "", http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

func call(c *http.Client, method, path, body string, want int) ([]byte, error) {
	req, err := http.NewRequest(method, "http://docker"+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, bytes.TrimSpace(b))
	}
	return b, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
