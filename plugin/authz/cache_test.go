package authz

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/internal/testutil"
	"github.com/dockward/dockward/plugin/lookupcache"
)

// TestCachesDecideLikeEvaluating is the differential test of the decision
// cache and the lookup cache: every captured request, every fuzz seed and
// every call of the replay corpus, as an anonymous caller and as a named
// one, is decided by a plugin without caches and twice by one with them
// (the second time from the caches), and the three decisions — allow,
// violations, dry runs, exemptions, level, and whether it was the
// plugin's failure — must be identical.
func TestCachesDecideLikeEvaluating(t *testing.T) {
	reqs := testutil.CapturedRequests(t, "../testdata/requests")
	for f, r := range testutil.FuzzSeeds(t, "../input/testdata/fuzz") {
		reqs[f] = r
	}
	for i, r := range replayRequests(t) {
		reqs[fmt.Sprintf("replay#%03d", i)] = r
	}
	names := make([]string, 0, len(reqs))
	for n := range reqs {
		names = append(names, n)
	}
	sort.Strings(names)

	groups := input.StaticGroups{"alice": {"alice", "dev"}}
	plain := newHarness(t, library, input.Builder{Lookup: testLookup, Groups: groups},
		Options{ReadCacheTTL: -1, DecisionCacheTTL: -1})
	facts := lookupcache.New(testLookup, time.Minute)
	cached := newHarness(t, library, input.Builder{Lookup: facts, Groups: groups},
		Options{ReadCacheTTL: time.Minute, DecisionCacheTTL: time.Minute, Facts: facts})

	type verdict struct {
		D        decision.Decision
		Internal bool
	}
	decide := func(h harness, req authorization.Request) verdict {
		r := h.plugin.Decide(req)
		return verdict{r.Decision, r.Internal}
	}
	n, hits := 0, 0
	for _, name := range names {
		for _, user := range []string{"", "alice"} {
			req := reqs[name]
			if user != "" {
				req.User, req.UserAuthNMethod = user, "TLS"
			}
			want := decide(plain, req)
			for round := range 2 {
				if got := decide(cached, req); !reflect.DeepEqual(got, want) {
					t.Errorf("%s (user %q), cached round %d:\n got %+v\nwant %+v", name, user, round, got, want)
				}
			}
			n++
		}
	}
	hits = int(facts.Stats().Hits)
	if n < 200 {
		t.Fatalf("only %d requests decided", n)
	}
	if cached.plugin.decided.Len() == 0 || hits == 0 {
		t.Fatalf("the caches were never used (%d decisions kept, %d lookup hits): the test compares nothing", cached.plugin.decided.Len(), hits)
	}
	t.Logf("%d requests, identical decisions; %d decisions kept, %d lookup hits", n, cached.plugin.decided.Len(), hits)
}

// replayRequests are the AuthZReq calls of the committed replay corpus.
func replayRequests(t *testing.T) []authorization.Request {
	t.Helper()
	b, err := os.ReadFile("../bench/testdata/replay/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []authorization.Request
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 4<<20)
	for sc.Scan() {
		var rec struct {
			Path    string                `json:"path"`
			Request authorization.Request `json:"request"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Path == "AuthZPlugin.AuthZReq" {
			out = append(out, rec.Request)
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d requests in the replay corpus", len(out))
	}
	return out
}
