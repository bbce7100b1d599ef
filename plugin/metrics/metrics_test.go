package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/decision"
)

// scrape returns the /metrics text.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestUserDenialsBounded: denials are counted per user for the first
// MaxUserSeries users, the rest under "other"; allows are not counted per
// user; every decision is counted per level.
func TestUserDenialsBounded(t *testing.T) {
	t.Parallel()
	m := New()
	deny := func(user, level string) decision.Decision {
		return decision.Decision{Level: level, User: user, Violations: []decision.Violation{{ID: "x"}}}
	}
	for i := 0; i < MaxUserSeries+50; i++ {
		m.Decision("container.create", deny(fmt.Sprintf("u%d", i), "restricted"), time.Millisecond)
	}
	m.Decision("container.create", deny("u0", "baseline"), time.Millisecond)
	m.Decision("container.list", decision.Decision{Allow: true, Level: "baseline", User: "someone-new"}, time.Millisecond)
	m.Decision("", decision.Deny("no body"), time.Millisecond)

	text := scrape(t, m)
	if n := strings.Count(text, "\ndockward_user_denials_total{"); n != MaxUserSeries+1 {
		t.Errorf("%d user series, want %d (the first users and other)", n, MaxUserSeries+1)
	}
	for _, want := range []string{
		`dockward_user_denials_total{user="u0"} 2`,
		// 50 users past the bound, plus the unnamed caller of the fail-closed deny.
		`dockward_user_denials_total{user="other"} 51`,
		fmt.Sprintf(`dockward_level_decisions_total{level="restricted",result="deny"} %d`, MaxUserSeries+50),
		`dockward_level_decisions_total{level="baseline",result="deny"} 1`,
		`dockward_level_decisions_total{level="baseline",result="allow"} 1`,
		`dockward_level_decisions_total{level="none",result="deny"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "someone-new") {
		t.Error("an allow made a user series")
	}
}
