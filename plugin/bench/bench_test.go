package bench

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRunCountsAndChecksAnswers(t *testing.T) {
	t.Parallel()
	sock := startFloor(t)
	mix, err := Mix()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(t.Context(), Target{Name: "floor", Socket: sock, PID: os.Getpid(), Floor: true}, mix, 4, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.Requests < 100 || r.RPS <= 0 || r.RSS <= 0 {
		t.Fatalf("round %+v", r)
	}
	for _, k := range r.Kinds {
		if k.Count == 0 || k.P50 <= 0 || k.Max < k.P99 {
			t.Errorf("kind %+v", k)
		}
	}
	// Driven as if it were dockward, the floor's allow of create_denied is
	// a wrong answer: counted as an error, never as speed.
	r, _ = Run(t.Context(), Target{Name: "floor", Socket: sock}, mix, 2, 200*time.Millisecond)
	if r.Errors == 0 || r.FirstErr == "" {
		t.Fatalf("wrong answers not counted: %+v", r)
	}
}

func TestRunNStopsAtCountAndVaries(t *testing.T) {
	t.Parallel()
	sock := startFloor(t)
	mix, err := SoakMix()
	if err != nil {
		t.Fatal(err)
	}
	r, err := RunN(t.Context(), Target{Name: "floor", Socket: sock, Floor: true}, mix, 3, 500)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 500 || r.Errors != 0 {
		t.Fatalf("want exactly 500 answered requests, got %d (errors %d)", r.Requests, r.Errors)
	}
	var unique Kind
	for _, k := range mix {
		if k.Vary != nil {
			unique = k
		}
	}
	if unique.Vary == nil || string(unique.Vary(1)) == string(unique.Vary(2)) {
		t.Fatal("the soak mix has no kind that varies per request")
	}
}

// startFloor serves the always-allow plugin on a socket in a temp dir.
func startFloor(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "floor.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { _ = ServeFloor(l) }()
	return sock
}
