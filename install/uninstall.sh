#!/usr/bin/env bash
# Remove dockward: first from dockerd's configuration (so Docker keeps working),
# then the service and the binary. Policies and audit logs are kept unless --purge.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: install/uninstall.sh [--purge]

Also undoes install.sh --identity: the broker stops, daemon.json loses the
identity settings, the docker unit drop-ins go, and dockerd is restarted on
its default socket (/var/run/docker.sock, root:docker).

  --purge   also delete /etc/dockward (policies, config, the identity PKI),
            /var/log/dockward (audit logs) and /var/lib/dockward (the ownership store)

Environment: as install.sh (PREFIX, ETC, DOCKER_CONFIG_FILE, SYSTEMD_DIR).
USAGE
}

PURGE=0
for arg in "$@"; do
	case "$arg" in
	--purge) PURGE=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "uninstall.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
	esac
done

PREFIX=${PREFIX:-/usr/local}
ETC=${ETC:-/etc/dockward}
DAEMON_JSON=${DOCKER_CONFIG_FILE:-/etc/docker/daemon.json}
SYSTEMD_DIR=${SYSTEMD_DIR:-/etc/systemd/system}
say() { printf '==> %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }

CONFIG_ARGS=()
[ -f "$ETC/config.yaml" ] && CONFIG_ARGS=(--config "$ETC/config.yaml")
IDENTITY=0
if [ -f "$SYSTEMD_DIR/dockward-broker.service" ] || [ -f /run/dockward-broker.pid ]; then
	IDENTITY=1
fi
if [ "$IDENTITY" -eq 1 ]; then
	say "identity: stopping the broker"
	if [ -d /run/systemd/system ] && [ -z "${DOCKWARD_NO_SYSTEMD:-}" ]; then
		systemctl disable --now dockward-broker.service >/dev/null 2>&1 || true
	fi
	if [ -f /run/dockward-broker.pid ]; then
		kill "$(cat /run/dockward-broker.pid)" 2>/dev/null || true
		rm -f /run/dockward-broker.pid
	fi
	rm -f "$SYSTEMD_DIR/dockward-broker.service" "$SYSTEMD_DIR/docker.service.d/dockward-identity.conf" \
		"$SYSTEMD_DIR/docker.socket.d/dockward-identity.conf" /etc/tmpfiles.d/dockward.conf
	rmdir "$SYSTEMD_DIR/docker.service.d" "$SYSTEMD_DIR/docker.socket.d" 2>/dev/null || true
	if [ -d /run/systemd/system ] && [ -z "${DOCKWARD_NO_SYSTEMD:-}" ]; then systemctl daemon-reload; fi
fi

if [ -x "$PREFIX/bin/dockward" ] && [ -f "$DAEMON_JSON" ]; then
	# Also takes dockward's identity settings (hosts, TLS) out.
	"$PREFIX/bin/dockward" daemon-config disable "${CONFIG_ARGS[@]}" --file "$DAEMON_JSON"
	if pid=$(pidof dockerd 2>/dev/null); then
		say "reloading dockerd (SIGHUP) so it stops asking dockward"
		if [ -d /run/systemd/system ] && [ -z "${DOCKWARD_NO_SYSTEMD:-}" ] && systemctl is-active --quiet docker; then
			if [ "$IDENTITY" -eq 1 ]; then
				# hosts and TLS change only on a restart: back to docker.socket.
				say "identity: restarting docker.socket and dockerd on their default socket"
				systemctl daemon-reload
				systemctl stop docker.service docker.socket || true
				systemctl start docker.socket docker.service
			else
				systemctl reload docker
			fi
		else
			kill -HUP $pid
			[ "$IDENTITY" -eq 0 ] || say "identity: restart dockerd yourself so it listens on its default socket again"
		fi
		sleep 1
	fi
fi

if [ -d /run/systemd/system ] && [ -f /etc/systemd/system/dockward.service ]; then
	say "stopping and removing the systemd unit"
	systemctl disable --now dockward.service >/dev/null 2>&1 || true
	rm -f /etc/systemd/system/dockward.service
	systemctl daemon-reload
fi
if [ -f /run/dockward.pid ]; then
	kill "$(cat /run/dockward.pid)" 2>/dev/null || true
	rm -f /run/dockward.pid
fi
rm -f "$PREFIX/bin/dockward" /run/docker/plugins/dockward.sock /run/dockward/control.sock
# The runtime directory (control socket, the raw socket's home under
# identity): gone when empty; a raw socket dockerd still serves keeps it.
rmdir /run/dockward 2>/dev/null || true
rm -rf "$PREFIX/share/doc/dockward"
if [ "$PURGE" -eq 1 ]; then
	say "purging $ETC, /var/log/dockward and /var/lib/dockward"
	rm -rf "$ETC" /var/log/dockward /var/lib/dockward
else
	say "kept $ETC (policies, config), /var/log/dockward (audit log) and /var/lib/dockward (ownership store); --purge deletes them"
fi
say "dockward removed"
