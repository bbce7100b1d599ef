#!/usr/bin/env bash
# Install dockward and enable it in dockerd. Run as root from a checkout:
#   sudo install/install.sh
# Idempotent: running it again upgrades the binary and keeps your policies.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: install/install.sh [--replace-policies] [--no-daemon-config]

Builds dockward, installs it to /usr/local/bin, the default policies to
/etc/dockward/policies (kept if they exist), a config at /etc/dockward/config.yaml,
a systemd unit (restart always), adds "dockward" to authorization-plugins in
/etc/docker/daemon.json (other settings kept) and reloads dockerd.

  --replace-policies   overwrite /etc/dockward/policies with the shipped ones
                       (the old directory is kept as policies.bak-<time>)
  --no-daemon-config   do not touch daemon.json nor reload dockerd

Environment: PREFIX (default /usr/local), ETC (default /etc/dockward),
DOCKER_CONFIG_FILE (default /etc/docker/daemon.json).
Undo with install/uninstall.sh.
USAGE
}

REPLACE_POLICIES=0
DAEMON_CONFIG=1
for arg in "$@"; do
	case "$arg" in
	--replace-policies) REPLACE_POLICIES=1 ;;
	--no-daemon-config) DAEMON_CONFIG=0 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "install.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
	esac
done

PREFIX=${PREFIX:-/usr/local}
ETC=${ETC:-/etc/dockward}
DAEMON_JSON=${DOCKER_CONFIG_FILE:-/etc/docker/daemon.json}
SOCKET=/run/docker/plugins/dockward.sock
REPO=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
command -v go >/dev/null || die "Go is needed to build dockward (https://go.dev/dl/); none found on PATH"

say "building dockward"
VERSION=$(git -C "$REPO" describe --tags --always --dirty 2>/dev/null || echo dev)
(cd "$REPO" && CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X github.com/dockward/dockward/plugin/cli.Version=$VERSION" \
	-o "$PREFIX/bin/dockward.new" ./plugin)
mv -f "$PREFIX/bin/dockward.new" "$PREFIX/bin/dockward"

say "installing policies and config under $ETC"
install -d -m 0755 "$ETC"
if [ -d "$ETC/policies" ] && [ "$REPLACE_POLICIES" -eq 0 ]; then
	say "keeping your policies in $ETC/policies (use --replace-policies to overwrite)"
else
	if [ -d "$ETC/policies" ]; then
		mv "$ETC/policies" "$ETC/policies.bak-$(date +%Y%m%d%H%M%S)"
	fi
	cp -r "$REPO/policies" "$ETC/policies"
fi
"$PREFIX/bin/dockward" policy check "$ETC/policies" >/dev/null || die "the policies in $ETC/policies do not compile; fix them first"
if [ ! -f "$ETC/config.yaml" ]; then
	sed "s#^policy_dir: .*#policy_dir: $ETC/policies#" "$REPO/install/config.yaml" >"$ETC/config.yaml"
	chmod 0644 "$ETC/config.yaml"
fi
install -d -m 0700 /var/log/dockward
install -d -m 0755 "$(dirname "$SOCKET")"
install -d -m 0755 "$PREFIX/share/doc/dockward"
install -m 0644 "$REPO/README.md" "$PREFIX/share/doc/dockward/README.md"

if [ -d /run/systemd/system ]; then
	say "installing the systemd unit (restart always)"
	sed "s#/usr/local/bin/dockward#$PREFIX/bin/dockward#; s#/etc/dockward/config.yaml#$ETC/config.yaml#" \
		"$REPO/install/dockward.service" >/etc/systemd/system/dockward.service
	systemctl daemon-reload
	systemctl enable dockward.service >/dev/null
	systemctl restart dockward.service
else
	say "systemd is not running on this machine: starting dockward in the background instead."
	say "It will NOT be restarted if it dies nor started at boot; use systemd in production."
	if [ -f /run/dockward.pid ] && kill -0 "$(cat /run/dockward.pid)" 2>/dev/null; then
		kill "$(cat /run/dockward.pid)"
		for _ in $(seq 50); do kill -0 "$(cat /run/dockward.pid)" 2>/dev/null || break; sleep 0.1; done
	fi
	nohup "$PREFIX/bin/dockward" serve --config "$ETC/config.yaml" >>/var/log/dockward/dockward.log 2>&1 &
	echo $! >/run/dockward.pid
fi

for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
[ -S "$SOCKET" ] || die "dockward did not start; see journalctl -u dockward or /var/log/dockward/dockward.log"
say "dockward is serving on $SOCKET"

if [ "$DAEMON_CONFIG" -eq 0 ]; then
	say "not touching $DAEMON_JSON (--no-daemon-config)"
	exit 0
fi
install -d -m 0755 "$(dirname "$DAEMON_JSON")"
"$PREFIX/bin/dockward" daemon-config enable --file "$DAEMON_JSON"

if pid=$(pidof dockerd 2>/dev/null); then
	say "reloading dockerd (SIGHUP) so it picks up authorization-plugins"
	if [ -d /run/systemd/system ] && systemctl is-active --quiet docker; then
		systemctl reload docker
	else
		kill -HUP $pid
	fi
	say "done. Try a denied and an allowed run (README.md, 'Try it')."
else
	say "no dockerd is running on this machine: dockward is configured in $DAEMON_JSON"
	say "and will be used when dockerd starts (install Docker: apt-get install docker.io)."
fi
