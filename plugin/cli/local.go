package cli

import (
	"context"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/daemon"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/policy"
)

// local is the plugin's decision path run inside a command (check, scan):
// the same policy loader, normalizer and daemon lookups, no audit record.
type local struct {
	plugin *authz.Plugin
	policy *policy.Compiled
	docker *daemon.Client
}

func newLocal(ctx context.Context, policyDir, dockerHost string) (*local, error) {
	c, err := policy.Load(ctx, policyDir)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	docker, err := daemon.New(dockerHost, 10*time.Second)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	plugin := authz.New(ctx, policy.NewEngine(c), input.Builder{Lookup: docker}, nil, log,
		authz.Options{EvalTimeout: 30 * time.Second, ReadCacheTTL: -1})
	return &local{plugin: plugin, policy: c, docker: docker}, nil
}

func (l *local) Close() error { return l.docker.Close() }
