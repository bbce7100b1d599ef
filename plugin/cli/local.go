package cli

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/authz"
	"github.com/dockward/dockward/plugin/daemon"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/policy"
	"github.com/dockward/dockward/plugin/userdb"
)

// local is the plugin's decision path run inside a command (check, scan):
// the same policy loader, normalizer and daemon lookups, no audit record.
type local struct {
	plugin *authz.Plugin
	policy *policy.Compiled
	docker *daemon.Client
}

// localGroups is the group resolver of check and scan for --user: the
// groups given with --group when there are any (a user of another host, or
// a what-if), else the user's groups in this host's user database, as the
// plugin would read them.
func localGroups(user string, groups []string) (input.GroupResolver, error) {
	if len(groups) > 0 {
		if user == "" {
			return nil, &ExitError{Code: 2, Err: errors.New("--group needs --user: groups are those of a user (the unnamed caller has none)")}
		}
		return input.StaticGroups{user: groups}, nil
	}
	return userdb.NewHost(""), nil
}

// newLocal loads the policy (at level for everyone, when level is set) and
// the plugin's decision path.
func newLocal(ctx context.Context, policyDir, dockerHost, level string, groups input.GroupResolver) (*local, error) {
	return newLocalWith(ctx, policyDir, dockerHost, level, groups, nil)
}

// newLocalWith is newLocal with the daemon lookups wrapped (nil: as they
// are): check of a Compose project answers those of the objects the
// project creates itself.
func newLocalWith(ctx context.Context, policyDir, dockerHost, level string, groups input.GroupResolver, wrap func(input.Lookup) input.Lookup) (*local, error) {
	load := policy.Load
	if level != "" {
		load = func(ctx context.Context, dir string) (*policy.Compiled, error) {
			return policy.LoadAtLevel(ctx, dir, level)
		}
	}
	c, err := load(ctx, policyDir)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	docker, err := daemon.New(dockerHost, 10*time.Second)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	var lookup input.Lookup = docker
	if wrap != nil {
		lookup = wrap(docker)
	}
	plugin := authz.New(ctx, policy.NewEngine(c), input.Builder{Lookup: lookup, Groups: groups}, nil, log,
		authz.Options{EvalTimeout: 30 * time.Second, ReadCacheTTL: -1})
	return &local{plugin: plugin, policy: c, docker: docker}, nil
}

func (l *local) Close() error { return l.docker.Close() }
