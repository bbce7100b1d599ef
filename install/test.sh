#!/usr/bin/env bash
# The project's one test command: vet, unit and Rego tests, then the
# end-to-end tests against two real Docker engines. Run as root from a
# checkout on Debian 12 with Go installed:
#   sudo install/test.sh
set -euo pipefail

DOCKERD_MODULE=github.com/moby/moby/v2
DOCKERD_PKG=$DOCKERD_MODULE/cmd/dockerd
# dockerd runs it to publish a port (the userland proxy): without it a
# container with -p / Compose ports: does not start on the current engine.
PROXY_PKG=$DOCKERD_MODULE/cmd/docker-proxy
DOCKERD_VERSION=v2.0.0-beta.24
RUNC_MODULE=github.com/opencontainers/runc
RUNC_VERSION=v1.5.2
COMPOSE_MODULE=github.com/docker/compose/v2
COMPOSE_VERSION=v2.40.3
COMPOSE_PLUGIN_DIR=${DOCKWARD_COMPOSE_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}
TOOLS_BIN="${DOCKWARD_TOOLS:-/opt/dwtools}/bin"
APT_PACKAGES=(docker.io busybox-static libseccomp-dev curl gcc pkg-config)

usage() {
	cat <<USAGE
Usage: install/test.sh [--no-e2e] [--e2e-only] [--no-install] [--help]

Runs, from the repository root:
  1. install   apt-get install ${APT_PACKAGES[*]} (only what is missing),
               and builds the current engine into $TOOLS_BIN
               (dockerd and docker-proxy $DOCKERD_VERSION, runc $RUNC_VERSION with seccomp; kept
               between runs, rebuilt only when the version differs), and
               Compose $COMPOSE_VERSION from its Go module into the same
               directory, linked as the docker CLI plugin
               $COMPOSE_PLUGIN_DIR/docker-compose
  2. vet       go vet ./... and go vet -tags e2e ./plugin/e2e/
  3. unit      go test -race ./...   (Go unit tests and the Rego policy tests)
     fuzz      go test -fuzz FuzzBuild for DOCKWARD_FUZZTIME (default 60s)
  4. e2e       go test -tags e2e ./plugin/e2e/ against Debian's dockerd 20.10
               (API 1.41), then against the current engine
  5. install   install/install.sh and install/uninstall.sh into a scratch
               prefix and daemon.json (the plugin socket must be free), then
               the same with --identity (scratch PKI, units and sockets; no
               dockerd or systemd unit is touched)
Each stage prints a one-line result; a summary follows. Exit status is 0 only
when every stage passed.

  --no-e2e      stop after the unit tests (no root needed without install)
  --e2e-only    only the end-to-end tests (install still runs)
  --no-install  do not apt-get or build engines; use what is there
  --help        this text

Environment: DOCKWARD_TOOLS (default /opt/dwtools) holds the built engine;
the e2e tests also read DOCKWARD_E2E_* (see plugin/e2e/doc.go).
The e2e tests start their own dockerd on a private socket and need the fixed
plugin sockets /run/docker/plugins/dockward.sock, dockward-fleet.sock and
dockward-canary.sock (the serve canary test) to be free (the fleet test also
serves a bundle server and a collector on loopback).
USAGE
}

RUN_UNIT=1
RUN_E2E=1
RUN_INSTALL=1
for arg in "$@"; do
	case "$arg" in
	--no-e2e) RUN_E2E=0 ;;
	--e2e-only) RUN_UNIT=0 ;;
	--no-install) RUN_INSTALL=0 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "test.sh: unknown argument: $arg" >&2
		usage >&2
		exit 2
		;;
	esac
done

cd "$(dirname "$0")/.."
# sudo's secure_path drops Go's usual home.
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi
if ! command -v go >/dev/null; then
	echo "test.sh: Go is required (https://go.dev/dl/)" >&2
	exit 2
fi
if [[ ! -f go.mod ]]; then
	echo "test.sh: run from a dockward checkout (no go.mod in $PWD)" >&2
	exit 2
fi
if ((RUN_E2E || RUN_INSTALL)) && ((EUID != 0)); then
	echo "test.sh: the install and e2e stages need root (or use --no-e2e --no-install)" >&2
	exit 2
fi

SUMMARY=()
FAILED=0

# stage NAME CMD...: runs CMD, prints and records its result and duration.
stage() {
	local name=$1
	shift
	local start=$SECONDS rc=0
	echo
	echo ">>> stage: $name"
	# set -e is off inside a command on the left of ||: stage functions
	# check each step themselves.
	"$@" || rc=$?
	local took=$((SECONDS - start))
	local line
	if ((rc == 0)); then
		line=$(printf '%-14s PASS  %4ss' "$name" "$took")
	else
		line=$(printf '%-14s FAIL  %4ss  (exit %s)' "$name" "$took" "$rc")
		FAILED=1
	fi
	echo ">>> $line"
	SUMMARY+=("$line")
}

skip() {
	SUMMARY+=("$(printf '%-14s SKIP  (%s)' "$1" "$2")")
	echo ">>> stage: $1 skipped: $2"
}

install_packages() {
	local missing=()
	[[ -x /usr/sbin/dockerd && -x /usr/bin/docker && -x /usr/bin/containerd ]] || missing+=(docker.io)
	# The test image is /bin/busybox alone: it must be the static build.
	dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
	dpkg -s libseccomp-dev >/dev/null 2>&1 || missing+=(libseccomp-dev)
	command -v curl >/dev/null || missing+=(curl)
	command -v gcc >/dev/null || missing+=(gcc)
	command -v pkg-config >/dev/null || missing+=(pkg-config)
	if ((${#missing[@]} == 0)); then
		echo "packages: all present"
		return 0
	fi
	echo "packages: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || return
	# The tests start their own isolated daemons and must not start (or
	# touch) the machine's: keep the packages' services from starting, the
	# Debian way (policy-rc.d exit 101), for the length of the install.
	local rcd=/usr/sbin/policy-rc.d
	local had_rcd=0
	[[ -e $rcd ]] && had_rcd=1
	if ((!had_rcd)); then
		printf '#!/bin/sh\nexit 101\n' >"$rcd" && chmod +x "$rcd"
	fi
	local rc=0
	apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null || rc=$?
	((had_rcd)) || rm -f "$rcd"
	return $rc
}

# built_at BINARY MODULE VERSION: true when BINARY was built from MODULE@VERSION.
# No early-exit reader (grep -q, head) on a pipe: under pipefail the writer's
# SIGPIPE (exit 141) would fail the stage now and then.
built_at() {
	local info
	[[ -x $1 ]] && info=$(go version -m "$1" 2>/dev/null) &&
		grep -E "^[[:space:]]+mod[[:space:]]+$2[[:space:]]+$3([[:space:]]|$)" <<<"$info" >/dev/null
}

build_engine() {
	mkdir -p "$TOOLS_BIN" || return
	# go install pkg@version ignores the current module; run it elsewhere anyway.
	local gobuild
	gobuild=$(mktemp -d) || return
	if built_at "$TOOLS_BIN/dockerd" "$DOCKERD_MODULE" "$DOCKERD_VERSION"; then
		echo "dockerd $DOCKERD_VERSION: already built in $TOOLS_BIN"
	else
		echo "dockerd $DOCKERD_VERSION: building into $TOOLS_BIN (takes a few minutes)"
		(cd "$gobuild" && GOBIN="$TOOLS_BIN" GOFLAGS= go install "$DOCKERD_PKG@$DOCKERD_VERSION") || return
	fi
	if built_at "$TOOLS_BIN/docker-proxy" "$DOCKERD_MODULE" "$DOCKERD_VERSION"; then
		echo "docker-proxy $DOCKERD_VERSION: already built in $TOOLS_BIN"
	else
		echo "docker-proxy $DOCKERD_VERSION: building into $TOOLS_BIN"
		(cd "$gobuild" && GOBIN="$TOOLS_BIN" GOFLAGS= go install "$PROXY_PKG@$DOCKERD_VERSION") || return
	fi
	if built_at "$TOOLS_BIN/runc" "$RUNC_MODULE" "$RUNC_VERSION" &&
		grep -F -- '-tags=seccomp' <<<"$(go version -m "$TOOLS_BIN/runc")" >/dev/null; then
		echo "runc $RUNC_VERSION: already built in $TOOLS_BIN"
	else
		echo "runc $RUNC_VERSION: building into $TOOLS_BIN (with seccomp)"
		(cd "$gobuild" && GOBIN="$TOOLS_BIN" GOFLAGS= CGO_ENABLED=1 go install -tags seccomp "$RUNC_MODULE@$RUNC_VERSION") || return
	fi
	rmdir "$gobuild"
	local v
	v=$("$TOOLS_BIN/runc" --version) || return
	echo "${v%%$'\n'*}"
}

# build_compose builds Compose v2 from its Go module, the way its Makefile
# does, into $TOOLS_BIN (kept between runs, rebuilt when the version
# differs), and links it as the docker CLI plugin unless another Compose is
# there already (the e2e tests use $TOOLS_BIN's through their own
# DOCKER_CONFIG either way). `go install module@version` refuses Compose:
# its go.mod has exclude directives, which only a main module may have.
build_compose() {
	mkdir -p "$TOOLS_BIN" || return
	local bin=$TOOLS_BIN/docker-compose have=""
	[[ -x $bin ]] && have=$("$bin" version --short 2>/dev/null)
	if [[ $have == "${COMPOSE_VERSION#v}" ]]; then
		echo "compose $COMPOSE_VERSION: already built in $TOOLS_BIN"
	else
		echo "compose $COMPOSE_VERSION: building into $TOOLS_BIN (takes a few minutes)"
		local src work
		src=$(cd / && GOFLAGS= go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || return
		[[ -d $src ]] || { echo "compose: go mod download gave no source directory"; return 1; }
		work=$(mktemp -d) || return
		cp -R "$src/." "$work" && chmod -R u+w "$work" &&
			(cd "$work" && GOFLAGS=-mod=mod go build -trimpath \
				-ldflags "-w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" -o "$bin" ./cmd)
		local rc=$?
		rm -rf "$work"
		((rc == 0)) || return $rc
	fi
	mkdir -p "$COMPOSE_PLUGIN_DIR" || return
	local link=$COMPOSE_PLUGIN_DIR/docker-compose
	if [[ ! -e $link || -L $link ]]; then
		ln -sfn "$bin" "$link" || return
	else
		echo "compose: $link is another Compose; left as is"
	fi
	"$bin" version
}

go_vet() {
	go vet ./... && go vet -tags e2e ./plugin/e2e/
}

go_unit() {
	go test -race -count=1 -timeout 20m ./...
}

# The request normalizer must never panic and never let an input through
# undecided, whatever the bytes: a bounded fuzzing run seeded with real
# docker CLI requests (plugin/testdata/requests).
go_fuzz() {
	go test -run '^$' -fuzz '^FuzzBuild$' -fuzztime "${DOCKWARD_FUZZTIME:-60s}" ./plugin/input/
}

go_e2e() {
	DOCKWARD_E2E_ENGINE=$1 DOCKWARD_E2E_BIN="$TOOLS_BIN" \
		go test -tags e2e -count=1 -v -timeout 20m ./plugin/e2e/
}

# install_smoke runs the README's install command and its uninstall against
# a scratch prefix and daemon.json: the plugin must serve, daemon.json must
# gain "dockward" and keep its other settings, and uninstall must undo both.
install_smoke() {
	local d
	d=$(mktemp -d /tmp/dw-install-XXXX) || return
	trap 'rm -rf "$d"; trap - RETURN' RETURN
	mkdir -p "$d/usr/bin"
	echo '{"log-level": "warn"}' >"$d/daemon.json"
	local envs=(PREFIX="$d/usr" ETC="$d/etc" DOCKER_CONFIG_FILE="$d/daemon.json")
	local had_run=0
	[[ -e /run/dockward ]] && had_run=1
	env "${envs[@]}" bash install/install.sh || return
	[[ -S /run/docker/plugins/dockward.sock ]] || { echo "install: no plugin socket"; return 1; }
	[[ -S /run/dockward/control.sock ]] || { echo "install: no control socket (dockward own)"; return 1; }
	grep -q '"dockward"' "$d/daemon.json" && grep -q '"log-level"' "$d/daemon.json" ||
		{ echo "install: daemon.json not merged:"; cat "$d/daemon.json"; return 1; }
	"$d/usr/bin/dockward" policy check "$d/etc/policies" || return
	env "${envs[@]}" bash install/uninstall.sh --purge || return
	! grep -q '"dockward"' "$d/daemon.json" || { echo "uninstall: daemon.json still names dockward"; return 1; }
	[[ ! -e /run/docker/plugins/dockward.sock ]] || { echo "uninstall: plugin socket left"; return 1; }
	[[ ! -e "$d/usr/bin/dockward" ]] || { echo "uninstall: binary left"; return 1; }
	((had_run)) || [[ ! -e /run/dockward ]] || { echo "uninstall: /run/dockward left"; return 1; }
}

# install_smoke_identity runs install.sh --identity into a scratch prefix,
# daemon.json, unit directory and sockets, touching no dockerd and no
# systemd unit (DOCKWARD_NO_SYSTEMD): the PKI is made with private keys
# 0600, daemon.json gains hosts and TLS and keeps its settings, the plugin's
# docker_host is the raw socket, the units are written, the broker serves
# its socket root:docker 0660 and, with no dockerd on the upstream port,
# answers 502 saying so; uninstall.sh --purge undoes all of it.
install_smoke_identity() {
	local d
	d=$(mktemp -d /tmp/dw-install-XXXX) || return
	trap 'rm -rf "$d"; trap - RETURN' RETURN
	mkdir -p "$d/usr/bin"
	echo '{"log-level": "warn"}' >"$d/daemon.json"
	local envs=(PREFIX="$d/usr" ETC="$d/etc" DOCKER_CONFIG_FILE="$d/daemon.json" SYSTEMD_DIR="$d/systemd"
		IDENTITY_SOCKET="$d/docker.sock" RAW_SOCKET="$d/raw/docker-root.sock" IDENTITY_UPSTREAM=tcp://127.0.0.1:1 DOCKWARD_NO_SYSTEMD=1)
	local fail=0
	check() { "$@" || { echo "install --identity: failed: $*"; fail=1; }; }
	env "${envs[@]}" bash install/install.sh --identity || return
	local f
	for f in ca-key.pem server-key.pem; do check test "$(stat -c %a "$d/etc/identity/$f")" = 600; done
	check test -s "$d/etc/identity/ca.pem"
	check test -s "$d/etc/identity/server-cert.pem"
	check grep -q '"tlsverify": true' "$d/daemon.json"
	check grep -q "\"unix://$d/raw/docker-root.sock\"" "$d/daemon.json"
	check grep -q '"tcp://127.0.0.1:1"' "$d/daemon.json"
	check grep -q '"log-level"' "$d/daemon.json"
	check grep -q '"dockward"' "$d/daemon.json"
	check grep -q "^docker_host: unix://$d/raw/docker-root.sock\$" "$d/etc/config.yaml"
	check test "$(stat -c %a "$d/raw")" = 700
	check grep -q "^ExecStart=$d/usr/bin/dockward broker --config $d/etc/config.yaml\$" "$d/systemd/dockward-broker.service"
	check grep -q '^ExecStart=$' "$d/systemd/docker.service.d/dockward-identity.conf"
	check test -z "$(grep 'fd://' "$d/systemd/docker.service.d/dockward-identity.conf" | grep -v '^#')"
	check grep -q "^ListenStream=$d/raw/docker-activation.sock\$" "$d/systemd/docker.socket.d/dockward-identity.conf"
	check test -S "$d/docker.sock"
	check test "$(stat -c '%a %U:%G' "$d/docker.sock")" = "660 root:docker"
	local answer
	answer=$(curl -s --max-time 10 --unix-socket "$d/docker.sock" -w ' HTTP %{http_code}' http://docker/_ping | tr -d '\n')
	echo "broker with no dockerd: $answer"
	check grep -q 'cannot reach dockerd at 127.0.0.1:1.*no fallback.* HTTP 502$' <<<"$answer"
	env "${envs[@]}" bash install/uninstall.sh --purge || return
	check test ! -e "$d/docker.sock"
	check test ! -e /run/dockward-broker.pid
	check test ! -e "$d/systemd/dockward-broker.service"
	check test ! -e "$d/systemd/docker.service.d/dockward-identity.conf"
	check test ! -e "$d/systemd/docker.socket.d/dockward-identity.conf"
	check test ! -e "$d/etc"
	check grep -q '"log-level"' "$d/daemon.json"
	for f in tlsverify hosts tlscacert dockward; do
		! grep -q "\"$f\"" "$d/daemon.json" || { echo "uninstall: daemon.json still has $f:"; cat "$d/daemon.json"; fail=1; }
	done
	return $fail
}

echo "dockward tests: $(go version), in $PWD"
ENGINE_OK=1
if ((RUN_INSTALL)); then
	stage install-pkgs install_packages
	if ((RUN_E2E)); then
		stage build-engine build_engine
		[[ ${SUMMARY[-1]} == *PASS* ]] || ENGINE_OK=0
		stage build-compose build_compose
	fi
fi
if ((RUN_UNIT)); then
	stage vet go_vet
	stage unit go_unit
	stage fuzz go_fuzz
fi
if ((RUN_E2E)); then
	stage e2e-debian go_e2e debian
	if ((ENGINE_OK)); then
		stage e2e-current go_e2e current
	else
		skip e2e-current "the current engine did not build"
		FAILED=1
	fi
	stage install-smoke install_smoke
	stage install-identity install_smoke_identity
fi

echo
echo ">>> summary"
printf '  %s\n' "${SUMMARY[@]}"
if ((FAILED)); then
	echo ">>> FAIL"
	exit 1
fi
echo ">>> PASS"
