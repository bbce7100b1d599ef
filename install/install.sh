#!/usr/bin/env bash
# Install dockward and enable it in dockerd. Run as root from a checkout:
#   sudo install/install.sh
# Idempotent: running it again upgrades the binary and keeps your policies.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: install/install.sh [--replace-policies] [--no-daemon-config] [--identity]

Builds dockward, installs it to /usr/local/bin, the default policies to
/etc/dockward/policies (kept if they exist), a config at /etc/dockward/config.yaml,
a systemd unit (restart always), adds "dockward" to authorization-plugins in
/etc/docker/daemon.json (other settings kept) and reloads dockerd.

  --replace-policies   overwrite /etc/dockward/policies with the shipped ones
                       (the old directory is kept as policies.bak-<time>)
  --no-daemon-config   do not touch daemon.json nor reload dockerd
  --identity           also turn on the identity broker (README, "Identity"):
                       make the local CA and dockerd's certificate in
                       $ETC/identity, move dockerd to a root-only socket
                       (/run/dockward/docker-root.sock) and a loopback TLS
                       listener (tcp://127.0.0.1:2376), and serve
                       /var/run/docker.sock with `dockward broker` (systemd
                       unit dockward-broker), so every caller is named.
                       RESTARTS dockerd (hosts and TLS need a restart).

Environment: PREFIX (default /usr/local), ETC (default /etc/dockward),
DOCKER_CONFIG_FILE (default /etc/docker/daemon.json); with --identity,
IDENTITY_SOCKET (default /var/run/docker.sock), RAW_SOCKET (default
/run/dockward/docker-root.sock), IDENTITY_UPSTREAM (default
tcp://127.0.0.1:2376), SYSTEMD_DIR (default /etc/systemd/system), and
DOCKWARD_NO_SYSTEMD=1 (write the units but run no systemctl and restart no
dockerd: the broker starts in the background; for tests).
Undo with install/uninstall.sh.
USAGE
}

REPLACE_POLICIES=0
DAEMON_CONFIG=1
IDENTITY=0
for arg in "$@"; do
	case "$arg" in
	--replace-policies) REPLACE_POLICIES=1 ;;
	--no-daemon-config) DAEMON_CONFIG=0 ;;
	--identity) IDENTITY=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "install.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
	esac
done

PREFIX=${PREFIX:-/usr/local}
ETC=${ETC:-/etc/dockward}
DAEMON_JSON=${DOCKER_CONFIG_FILE:-/etc/docker/daemon.json}
SOCKET=/run/docker/plugins/dockward.sock
IDENTITY_SOCKET=${IDENTITY_SOCKET:-/var/run/docker.sock}
RAW_SOCKET=${RAW_SOCKET:-/run/dockward/docker-root.sock}
IDENTITY_UPSTREAM=${IDENTITY_UPSTREAM:-tcp://127.0.0.1:2376}
SYSTEMD_DIR=${SYSTEMD_DIR:-/etc/systemd/system}
REPO=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# install_identity sets up systemd (or, without it, a background broker)
# once daemon.json carries the identity settings.
install_identity() {
	local unit_dir=$SYSTEMD_DIR
	install -d -m 0755 "$unit_dir" "$unit_dir/docker.service.d" "$unit_dir/docker.socket.d"
	sed "s#/usr/local/bin/dockward#$PREFIX/bin/dockward#; s#/etc/dockward/config.yaml#$ETC/config.yaml#" \
		"$REPO/install/dockward-broker.service" >"$unit_dir/dockward-broker.service"
	# daemon.json "hosts" and a -H flag together stop dockerd from starting:
	# the packaged ExecStart, without -H fd://.
	local exec_start=""
	if [ -d /run/systemd/system ] && [ -z "${DOCKWARD_NO_SYSTEMD:-}" ]; then
		exec_start=$(systemctl cat docker.service 2>/dev/null | sed -n 's/^ExecStart=\(..*\)$/\1/p' | tail -n 1)
	fi
	[ -n "$exec_start" ] || exec_start="$(command -v dockerd || echo /usr/bin/dockerd) --containerd=/run/containerd/containerd.sock"
	exec_start=$(printf '%s\n' "$exec_start" | sed -E 's# (-H|--host)[= ]fd://##g')
	printf '%s\n' "# dockward identity (install.sh --identity): dockerd's sockets come from" \
		"# daemon.json \"hosts\" (root-only unix socket, loopback TLS), not fd://." \
		"[Service]" "ExecStart=" "ExecStart=$exec_start" >"$unit_dir/docker.service.d/dockward-identity.conf"
	# docker.service Requires=docker.socket, so it cannot be masked: move
	# its socket out of the broker's way, root only (dockerd ignores it).
	printf '%s\n' "# dockward identity: the broker serves $IDENTITY_SOCKET." "[Socket]" "ListenStream=" \
		"ListenStream=$(dirname "$RAW_SOCKET")/docker-activation.sock" "SocketMode=0600" "SocketGroup=root" \
		>"$unit_dir/docker.socket.d/dockward-identity.conf"
	if [ -d /run/systemd/system ] && [ -z "${DOCKWARD_NO_SYSTEMD:-}" ]; then
		install -d -m 0755 /etc/tmpfiles.d
		echo "d $(dirname "$RAW_SOCKET") 0700 root root -" >/etc/tmpfiles.d/dockward.conf
		say "identity: restarting docker.socket (moved) and dockerd, starting dockward-broker"
		systemctl daemon-reload
		systemctl stop docker.service docker.socket 2>/dev/null || true
		systemctl start docker.socket 2>/dev/null || true
		systemctl enable dockward-broker.service >/dev/null
		systemctl restart dockward-broker.service
		systemctl start docker.service
	else
		say "identity: systemd is not running: starting the broker in the background (NOT restarted if it dies)"
		say "the unit files are in $unit_dir for when it is; restart dockerd yourself to apply $DAEMON_JSON"
		if [ -f /run/dockward-broker.pid ] && kill -0 "$(cat /run/dockward-broker.pid)" 2>/dev/null; then
			kill "$(cat /run/dockward-broker.pid)"
			for _ in $(seq 50); do kill -0 "$(cat /run/dockward-broker.pid)" 2>/dev/null || break; sleep 0.1; done
		fi
		nohup "$PREFIX/bin/dockward" broker --config "$ETC/config.yaml" >>/var/log/dockward/broker.log 2>&1 &
		echo $! >/run/dockward-broker.pid
	fi
	for _ in $(seq 50); do [ -S "$IDENTITY_SOCKET" ] && break; sleep 0.1; done
	[ -S "$IDENTITY_SOCKET" ] || die "the broker did not start; see journalctl -u dockward-broker or /var/log/dockward/broker.log"
	say "identity on: users talk to $IDENTITY_SOCKET (broker); dockerd listens on $RAW_SOCKET (root only) and $IDENTITY_UPSTREAM (TLS)"
	say "try it as a member of the docker group: docker info; dockward audit then names them"
}

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
if [ "$IDENTITY" -eq 1 ]; then
	say "identity: pointing $ETC/config.yaml at the raw socket and the PKI in $ETC/identity"
	# An identity: section turns identity on (the broker, doctor read it).
	grep -q '^identity:' "$ETC/config.yaml" || printf '%s\n' "identity:" "  socket: $IDENTITY_SOCKET" "  socket_group: docker" \
		"  upstream: $IDENTITY_UPSTREAM" "  raw_socket: $RAW_SOCKET" "  pki_dir: $ETC/identity" "  client_cert_ttl: 24h" >>"$ETC/config.yaml"
	# The plugin's own lookups go to dockerd's root-only socket: through the
	# broker's socket the plugin would be one more caller.
	sed -i -E "s|^#? ?docker_host: .*|docker_host: unix://$RAW_SOCKET|; \
		s|^  socket: .*|  socket: $IDENTITY_SOCKET|; s|^  raw_socket: .*|  raw_socket: $RAW_SOCKET|; \
		s|^  upstream: .*|  upstream: $IDENTITY_UPSTREAM|; s|^  pki_dir: .*|  pki_dir: $ETC/identity|" "$ETC/config.yaml"
	grep -q "^docker_host: unix://$RAW_SOCKET" "$ETC/config.yaml" || die "could not set docker_host in $ETC/config.yaml; set docker_host: unix://$RAW_SOCKET by hand"
	"$PREFIX/bin/dockward" identity init --config "$ETC/config.yaml" || die "could not make the identity PKI (above); nothing else was changed for identity"
	# dockerd's own socket lives in a root-only directory, whatever its mode.
	install -d -m 0700 "$(dirname "$RAW_SOCKET")"
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
	[ "$IDENTITY" -eq 0 ] || say "identity: PKI made; run again without --no-daemon-config to turn the broker on"
	exit 0
fi
install -d -m 0755 "$(dirname "$DAEMON_JSON")"
if [ "$IDENTITY" -eq 1 ]; then
	# Refuses, changing nothing, if daemon.json already sets hosts or TLS.
	"$PREFIX/bin/dockward" daemon-config enable --identity --config "$ETC/config.yaml" --file "$DAEMON_JSON"
	install_identity
	exit 0
fi
"$PREFIX/bin/dockward" daemon-config enable --config "$ETC/config.yaml" --file "$DAEMON_JSON"

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
