package bench

import "testing"

// TestReplayCorpus checks the committed corpus: it parses, has every kind
// the report promises, and the mix built from it has the classes in
// ReplayShares (within 2 points).
func TestReplayCorpus(t *testing.T) {
	recs, err := ReplayCorpus()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range recs {
		kinds[r.Kind]++
		if r.Kind == "" || r.Path == "" {
			t.Fatalf("record without kind or path: %+v", r)
		}
		if !r.Allow && Class(r.Kind) != "create" {
			t.Errorf("%s %s expected denied: only creates are denied in the session", r.Kind, r.Request.RequestURI)
		}
	}
	for _, k := range []string{"create_compliant", "create_denied", "exec_create", "exec_start", "read", "write_bodyless", "write_body", "authz_res"} {
		if kinds[k] == 0 {
			t.Errorf("corpus has no %s", k)
		}
	}
	mix, err := ReplayMix(recs)
	if err != nil {
		t.Fatal(err)
	}
	total, by := 0, map[string]int{}
	for _, k := range mix {
		if k.Path == "/AuthZPlugin.AuthZRes" {
			continue
		}
		by[Class(k.Name)] += k.Weight
		total += k.Weight
	}
	for c, want := range ReplayShares {
		got := 100 * float64(by[c]) / float64(total)
		if got < float64(want)-2 || got > float64(want)+2 {
			t.Errorf("%s is %.1f%% of the AuthZReq calls, want %d%%", c, got, want)
		}
	}
}
