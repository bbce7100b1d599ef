package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	_ "embed"

	"github.com/docker/go-plugins-helpers/authorization"
)

// Record is one call dockerd made to an authorization plugin, as captured
// by the Recorder, with the kind it counts as in the replay mix and the
// answer dockward must give it under the shipped policy.
type Record struct {
	Kind    string                `json:"kind"`
	Path    string                `json:"path"` // AuthZPlugin.AuthZReq or AuthZPlugin.AuthZRes
	Allow   bool                  `json:"allow"`
	Request authorization.Request `json:"request"`
}

// The replay corpus: what dockerd sent an authorization plugin while the
// real docker CLI ran a typical session (testdata/replay/README.md says how
// it was captured; plugin/e2e/bench_replay_test.go re-captures it).
//
//go:embed testdata/replay/corpus.jsonl
var replayCorpus []byte

// ReplayCorpus is the committed corpus.
func ReplayCorpus() ([]Record, error) { return ParseCorpus(replayCorpus) }

// ParseCorpus reads a JSONL corpus.
func ParseCorpus(b []byte) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 4<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("replay corpus line %d: %w", line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// ReplayShares are the replay mix's proportions, from the issue's
// measurement of real traffic: container creates (compliant and denied)
// 20%, other writes (exec, start, stop, rm, update, volume, plugin) 10%,
// reads the rest. A typical captured CLI session has fewer creates (about
// 6%: every command also pings, inspects and gets AuthZRes calls), so
// ReplayMix weights each AuthZReq by its class to reach these shares of
// the AuthZReq calls.
var ReplayShares = map[string]int{"create": 20, "write": 10, "read": 70}

// Class is "create", "write" or "read" for a record's kind.
func Class(kind string) string {
	switch {
	case strings.HasPrefix(kind, "create_"):
		return "create"
	case strings.HasPrefix(kind, "exec_"), strings.HasPrefix(kind, "write_"):
		return "write"
	}
	return "read"
}

// ReplayMix turns a corpus into a mix: every record is its own Kind (named
// by its kind, so the report groups them with GroupKinds), weighted so the
// classes have ReplayShares of the AuthZReq calls; within a class the proportions
// are the corpus's own, as dockerd sent them.
func ReplayMix(recs []Record) ([]Kind, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("replay corpus is empty")
	}
	// Shares are over AuthZReq calls (the decisions); each AuthZRes gets
	// the weight of the AuthZReq it follows, so every allowed request is
	// still followed by its AuthZRes as often as it is sent.
	n := map[string]int{}
	for _, r := range recs {
		if !strings.HasSuffix(r.Path, "AuthZRes") {
			n[Class(r.Kind)]++
		}
	}
	weight := func(c string) int { return max(1, ReplayShares[c]*100/max(1, n[c])) }
	last := map[string]int{} // method+URI -> weight of the last AuthZReq
	var mix []Kind
	for _, r := range recs {
		b, err := json.Marshal(r.Request)
		if err != nil {
			return nil, err
		}
		key := r.Request.RequestMethod + " " + r.Request.RequestURI
		w := weight(Class(r.Kind))
		if strings.HasSuffix(r.Path, "AuthZRes") {
			if lw, ok := last[key]; ok {
				w = lw
			}
		} else {
			last[key] = w
		}
		mix = append(mix, Kind{Name: r.Kind, Weight: w, Path: "/" + strings.TrimPrefix(r.Path, "/"), Body: b, Allow: r.Allow})
	}
	return mix, nil
}

// GroupKinds merges a round's per-entry stats into one entry per kind name
// (the replay mix has one entry per captured request). Percentiles of a
// group are the worst entry's: an upper bound, never flattering.
func GroupKinds(ks []KindStats) []KindStats {
	var out []KindStats
	idx := map[string]int{}
	for _, k := range ks {
		i, ok := idx[k.Name]
		if !ok {
			idx[k.Name] = len(out)
			out = append(out, k)
			continue
		}
		g := &out[i]
		g.Count += k.Count
		g.Denied += k.Denied
		g.P50, g.P90, g.P99, g.Max = max(g.P50, k.P50), max(g.P90, k.P90), max(g.P99, k.P99), max(g.Max, k.Max)
	}
	return out
}

// Recorder is an always-allow plugin that appends every call it gets to a
// JSONL file: pointed at by an isolated dockerd, it captures what dockerd
// really sends (AuthZReq and, after each allowed one, AuthZRes).
type Recorder struct {
	mu  sync.Mutex
	enc *json.Encoder
	f   *os.File
}

// NewRecorder appends to path.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &Recorder{enc: json.NewEncoder(f), f: f}, nil
}

func (r *Recorder) write(path string, req authorization.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.enc.Encode(Record{Path: path, Allow: true, Request: req})
	_ = r.f.Sync()
}

// AuthZReq implements authorization.Plugin.
func (r *Recorder) AuthZReq(req authorization.Request) authorization.Response {
	r.write("AuthZPlugin.AuthZReq", req)
	return authorization.Response{Allow: true}
}

// AuthZRes implements authorization.Plugin.
func (r *Recorder) AuthZRes(req authorization.Request) authorization.Response {
	r.write("AuthZPlugin.AuthZRes", req)
	return authorization.Response{Allow: true}
}

// ServeRecorder serves a Recorder writing to out on l.
func ServeRecorder(l net.Listener, out string) error {
	r, err := NewRecorder(out)
	if err != nil {
		return err
	}
	return authorization.NewHandler(r).Serve(l)
}

// KindNames are the distinct kind names of mix, in first-seen order.
func KindNames(mix []Kind) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range mix {
		if !seen[k.Name] {
			seen[k.Name] = true
			out = append(out, k.Name)
		}
	}
	return out
}

// OnlyKind is the part of mix whose entries are named name: run alone, a
// round of it gives that kind's CPU per request (CPU is measured per
// process, so per kind needs a round per kind).
func OnlyKind(mix []Kind, name string) []Kind {
	var out []Kind
	for _, k := range mix {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}
