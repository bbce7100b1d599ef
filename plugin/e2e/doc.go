// Package e2e runs dockward in front of a real, isolated dockerd and drives
// it with the real docker CLI: what a developer types, what the daemon
// forwards, what the plugin decides and what lands in the audit log.
//
// One plugin and one daemon serve the whole package (started on first use,
// stopped by TestMain). The daemon is private: its own socket, data root,
// exec root, pid file and managed containerd under a temporary directory.
// Only the plugin socket is shared with the host, because dockerd looks
// legacy plugins up at a fixed path; the harness refuses to start when
// another process serves it. TestFleet runs its own dockerd and plugins
// (plugin name dockward-fleet, socket /run/docker/plugins/dockward-fleet.sock)
// against a bundle server and a decision-log collector on loopback.
//
// TestDifferentialOracle and TestDifferentialOracleServices (oracle*_test.go)
// start a bare dockerd of their own (no plugin) and compare, for a corpus of
// create, exec, update, volume, network and service bodies, what that daemon
// stores and runs (inspect, and /proc/self/status of the process) with the
// input dockward builds for the same request. The divergences they find
// today are listed in knownDivergences and knownServiceDivergences, each
// with its issue item: the tests fail on any other divergence, and on a
// listed one that stops occurring. The services test makes a swarm: run it
// under `flock /tmp/dw-swarm.lock`.
//
// Environment:
//
//	DOCKWARD_E2E_ENGINE      debian (/usr/sbin/dockerd, API 1.41; default) or
//	                         current (dockerd and runc from DOCKWARD_E2E_BIN)
//	DOCKWARD_E2E_BIN         directory of the current engine (default /opt/dwtools/bin)
//	DOCKWARD_E2E_ALLOW_SKIP  1: skip instead of failing when the environment lacks
//	                         something (the engine, root, a swarm the sandbox allows)
//	DOCKWARD_E2E_CLI         docker CLI to use (default /usr/bin/docker, else docker on PATH)
//	DOCKWARD_E2E_POLICY_DIR  policies to copy (default: the repository's policies/)
//	DOCKWARD_E2E_PLUGIN      plugin name dockward-<suffix> instead of dockward
//	                         (its own plugin socket; for parallel checkouts)
//	DOCKWARD_E2E_COMPOSE     the Compose v2 binary for the Compose tests (default
//	                         DOCKWARD_E2E_BIN/docker-compose, else an installed
//	                         docker CLI plugin); linked into the harness's own
//	                         DOCKER_CONFIG as the docker-compose plugin
//	DOCKWARD_E2E_CONTAINERD  own: start containerd ourselves instead of
//	                         letting dockerd manage it (automatic fallback too)
//
// Run: go test -tags e2e -count=1 -v ./plugin/e2e/ (as root).
package e2e
