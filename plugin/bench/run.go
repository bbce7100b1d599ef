package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"
)

// Target is a plugin process to drive.
type Target struct {
	Name   string
	Socket string
	PID    int  // for CPU time and RSS from /proc; 0 to skip
	Floor  bool // the always-allow plugin: every answer must be an allow
}

// KindStats are one request kind's numbers in a round.
type KindStats struct {
	Name               string        `json:"name"`
	Count              int           `json:"count"`
	Denied             int           `json:"denied"` // answers that were a deny (each one expected: a wrong one is an error)
	P50, P90, P99, Max time.Duration `json:"-"`
}

// Round is one timed run against one target.
type Round struct {
	Target    string        `json:"target"`
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"` // transport errors and wrong answers
	Elapsed   time.Duration `json:"elapsed_ns"`
	RPS       float64       `json:"rps"`
	CPUPerReq time.Duration `json:"cpu_per_request_ns"`
	RSS       int64         `json:"rss_bytes"`
	Kinds     []KindStats   `json:"kinds"`
	FirstErr  string        `json:"first_error,omitempty"`
}

// Run drives t with the mix from concurrency clients for d.
func Run(ctx context.Context, t Target, mix []Kind, concurrency int, d time.Duration) (Round, error) {
	return run(ctx, t, mix, concurrency, d, 0)
}

// RunN drives t with the mix from concurrency clients until n requests
// have been answered (or ctx ends).
func RunN(ctx context.Context, t Target, mix []Kind, concurrency int, n int64) (Round, error) {
	return run(ctx, t, mix, concurrency, 0, n)
}

// run stops after d (when d > 0) or after n requests (when n > 0).
func run(ctx context.Context, t Target, mix []Kind, concurrency int, d time.Duration, n int64) (Round, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", t.Socket)
		},
		MaxIdleConnsPerHost: concurrency,
	}}
	defer client.CloseIdleConnections()
	// A weighted, interleaved schedule: every worker walks it from its own
	// offset, so all kinds run at once in their proportions.
	var schedule []int
	for step := 0; ; step++ {
		added := false
		for i, k := range mix {
			if step < k.Weight {
				schedule = append(schedule, i)
				added = true
			}
		}
		if !added {
			break
		}
	}
	// Shuffled (a fixed seed, the same every run) so that any stretch of the
	// schedule has the mix's proportions: a short round walks only part of
	// a long schedule (the replay mix's is thousands of entries), and the
	// step-by-step interleave above front-loads the light kinds.
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(schedule), func(a, b int) { schedule[a], schedule[b] = schedule[b], schedule[a] })

	cpu0, _ := CPUTime(t.PID)
	start := time.Now()
	deadline := start.Add(d)
	running := func() bool { return ctx.Err() == nil && (d <= 0 || time.Now().Before(deadline)) }
	var issued atomic.Int64
	type sample struct {
		kind  int
		took  time.Duration
		allow bool
	}
	results := make([][]sample, concurrency)
	var errs int
	var firstErr string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []sample
			for i := w * 13; running(); i++ {
				seq := issued.Add(1)
				if n > 0 && seq > n {
					break
				}
				k := schedule[i%len(schedule)]
				t0 := time.Now()
				allow, err := call(client, mix[k], seq)
				took := time.Since(t0)
				if err == nil && allow != (mix[k].Allow || t.Floor) {
					err = fmt.Errorf("%s: allow=%v, want %v", mix[k].Name, allow, mix[k].Allow || t.Floor)
				}
				if err != nil {
					mu.Lock()
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				local = append(local, sample{k, took, allow})
			}
			results[w] = local
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, _ := CPUTime(t.PID)

	r := Round{Target: t.Name, Errors: errs, Elapsed: elapsed, FirstErr: firstErr}
	per := make([][]time.Duration, len(mix))
	denied := make([]int, len(mix))
	for _, rs := range results {
		for _, s := range rs {
			per[s.kind] = append(per[s.kind], s.took)
			if !s.allow {
				denied[s.kind]++
			}
			r.Requests++
		}
	}
	r.RPS = float64(r.Requests) / elapsed.Seconds()
	if r.Requests > 0 && t.PID > 0 {
		r.CPUPerReq = (cpu1 - cpu0) / time.Duration(r.Requests)
	}
	r.RSS, _ = rss(t.PID)
	for i, k := range mix {
		ks := KindStats{Name: k.Name, Count: len(per[i]), Denied: denied[i]}
		if n := len(per[i]); n > 0 {
			sort.Slice(per[i], func(a, b int) bool { return per[i][a] < per[i][b] })
			q := func(p float64) time.Duration { return per[i][min(n-1, int(p*float64(n)))] }
			ks.P50, ks.P90, ks.P99, ks.Max = q(.50), q(.90), q(.99), per[i][n-1]
		}
		r.Kinds = append(r.Kinds, ks)
	}
	return r, nil
}

func call(c *http.Client, k Kind, seq int64) (bool, error) {
	body := k.Body
	if k.Vary != nil {
		body = k.Vary(seq)
	}
	resp, err := c.Post("http://plugin"+k.Path, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	var out authorization.Response
	if err := json.Unmarshal(b, &out); err != nil {
		return false, fmt.Errorf("%s: bad answer %q", k.Name, b)
	}
	if out.Err != "" {
		return false, fmt.Errorf("%s: plugin error: %s", k.Name, out.Err)
	}
	return out.Allow, nil
}

// CPUTime is the process's user+system CPU time from /proc/PID/stat.
func CPUTime(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// rss is the process's resident set size from /proc/PID/status.
func rss(pid int) (int64, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

// AllowAll is the floor: a plugin on the same protocol library that allows
// everything without looking.
type AllowAll struct{}

// AuthZReq implements authorization.Plugin.
func (AllowAll) AuthZReq(authorization.Request) authorization.Response {
	return authorization.Response{Allow: true}
}

// AuthZRes implements authorization.Plugin.
func (AllowAll) AuthZRes(authorization.Request) authorization.Response {
	return authorization.Response{Allow: true}
}

// ServeFloor serves AllowAll on l.
func ServeFloor(l net.Listener) error {
	return authorization.NewHandler(AllowAll{}).Serve(l)
}

// Mismatch is one mix entry whose answer was not the expected one.
type Mismatch struct {
	Kind, URI string
	Allow     bool
	Err       string
}

// Check sends every entry of mix once to t and returns the entries whose
// answer differs from the expected one (for a report that says which).
func Check(t Target, mix []Kind) []Mismatch {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", t.Socket)
		},
	}}
	defer client.CloseIdleConnections()
	var out []Mismatch
	for i, k := range mix {
		allow, err := call(client, k, int64(i))
		if err == nil && allow == (k.Allow || t.Floor) {
			continue
		}
		var req authorization.Request
		_ = json.Unmarshal(k.Body, &req)
		m := Mismatch{Kind: k.Name, URI: req.RequestMethod + " " + req.RequestURI, Allow: allow}
		if err != nil {
			m.Err = err.Error()
		}
		out = append(out, m)
	}
	return out
}
