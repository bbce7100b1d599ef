package cli

import (
	"context"
	"slices"

	"github.com/sirupsen/logrus"

	"github.com/dockward/dockward/plugin/decision"
	"github.com/dockward/dockward/plugin/input"
	"github.com/dockward/dockward/plugin/policy"
)

// warnPolicy logs, at start, what the loaded policy leaves open that the
// operator should know of.
func warnPolicy(ctx context.Context, log *logrus.Logger, c *policy.Compiled) {
	if w := buildkitTrustWarning(ctx, c); w != "" {
		log.WithField("rule", "no_buildkit_session").Warn(w)
	}
}

// buildkitTrustWarning is the warning for a policy that restricts images
// while BuildKit sessions are not refused: the legacy builder and POST
// /build are judged (image_mint_admin_only), but a BuildKit client that
// solves over the session's gRPC stream (POST /session, /grpc: buildx's
// docker driver) builds, pulls FROM images and names the result without
// any request the plugin can read. The policy itself answers, through two
// probes an anonymous user would send: docker load (refused or audited
// only while image trust is on) and POST /session (refused only when
// no_buildkit_session is enforced). "" when there is nothing to warn of.
func buildkitTrustWarning(ctx context.Context, c *policy.Compiled) string {
	probe := func(method, path, endpoint string, img *input.Image) (decision.Decision, error) {
		return c.Eval(ctx, &input.Input{
			Version: input.SchemaVersion,
			Request: input.Request{Method: method, Path: path, Query: map[string][]string{}},
			Route:   input.RouteInfo{Endpoint: endpoint, Write: true},
			Image:   img,
		})
	}
	load, err := probe("POST", "/images/load", "image.load", &input.Image{Action: "load"})
	if err != nil || !(names(load.Violations, "image_mint_admin_only") || names(load.DryRun, "image_mint_admin_only")) {
		return ""
	}
	session, err := probe("POST", "/session", "session", nil)
	if err != nil || names(session.Violations, "no_buildkit_session") {
		return ""
	}
	return "image trust is on (params.allowed_images or require_digest) but no_buildkit_session is not enforced: " +
		"a BuildKit client that solves over POST /session and /grpc (docker buildx) builds and pulls images the plugin never sees; " +
		"set modes.no_buildkit_session to enforce (builds then need DOCKER_BUILDKIT=0, and are admin-only while trust is on)"
}

func names(vs []decision.Violation, id string) bool {
	return slices.ContainsFunc(vs, func(v decision.Violation) bool { return v.ID == id })
}
