package cli

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockward/dockward/plugin/config"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/lookupcache"
	"github.com/dockward/dockward/plugin/metrics"
)

// serve asks the daemon at --docker-host, else the config file's
// docker_host, else $DOCKER_HOST (as every Docker client), else the default
// socket.
func TestServeDockerHostPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	withHost := filepath.Join(dir, "with-host.yaml")
	without := filepath.Join(dir, "without-host.yaml")
	if err := os.WriteFile(withHost, []byte("docker_host: unix:///from/file.sock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(without, []byte("log_level: warn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env string
		args      []string
		want      string
	}{
		{"flag over file and env", "unix:///from/env.sock", []string{"--config", withHost, "--docker-host", "unix:///from/flag.sock"}, "unix:///from/flag.sock"},
		{"file over env", "unix:///from/env.sock", []string{"--config", withHost}, "unix:///from/file.sock"},
		{"env without a host in the file", "tcp://127.0.0.1:2376", []string{"--config", without}, "tcp://127.0.0.1:2376"},
		{"default", "", []string{"--config", without}, config.Default().DockerHost},
		{"bad env is refused, not ignored", "ssh://host", []string{"--config", without}, "invalid docker_host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &serveParams{cfg: config.Default()}
			cmd := serveCommand(p)
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			err := p.resolveEnv(cmd, func(k string) string {
				if k == "DOCKER_HOST" {
					return tt.env
				}
				return ""
			})
			if strings.HasPrefix(tt.want, "invalid") {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.cfg.DockerHost != tt.want {
				t.Fatalf("docker host = %q, want %q", p.cfg.DockerHost, tt.want)
			}
		})
	}
}

func TestServeHelpNamesDockerHost(t *testing.T) {
	t.Parallel()
	cmd := newServe()
	usage := cmd.Flags().Lookup("docker-host").Usage
	if !strings.Contains(usage, "$DOCKER_HOST") || !strings.Contains(cmd.Long, "$DOCKER_HOST") {
		t.Fatalf("--help does not say DOCKER_HOST is read: %q", usage)
	}
	if !strings.Contains(cmd.Long, "eval_timeout (default 5s)") || cmd.Flags().Lookup("eval-timeout").DefValue != config.Default().EvalTimeout.String() {
		t.Fatal("--help does not give the default eval_timeout")
	}
}

// The soft memory limit never squeezes the collector: below twice the live
// heap (a large policy) it follows the heap.
func TestMemoryLimitLeavesRoom(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct{ base, live, want int64 }{
		{22 * mib, 6 * mib, 22 * mib},
		{22 * mib, 9 * mib, 22 * mib},
		{22 * mib, 20 * mib, 44 * mib},
		{0, 0, 4 * mib},
	} {
		if got := memoryLimit(tc.base, tc.live); got != tc.want {
			t.Errorf("memoryLimit(%d MiB, live %d MiB) = %d MiB, want %d", tc.base/mib, tc.live/mib, got/mib, tc.want/mib)
		}
	}
}

// The lookup cache's metrics are exported, and _live says whether it serves.
func TestLookupCacheMetrics(t *testing.T) {
	m := metrics.New()
	c := lookupcache.New(input.StaticLookup{}, time.Minute)
	registerLookupCache(m, c)
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	out := scrape()
	for _, want := range []string{"dockward_lookup_cache_hits_total 0", "dockward_lookup_cache_misses_total 0",
		"dockward_lookup_cache_invalidations_total 0", "dockward_lookup_cache_live 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c.Follow(ctx, func(ctx context.Context, _ func(), _ func(string, string)) error { <-ctx.Done(); return ctx.Err() }, nil)
	if out := scrape(); !strings.Contains(out, "dockward_lookup_cache_live 0") {
		t.Errorf("with no event stream the cache says it serves:\n%s", out)
	}
}
