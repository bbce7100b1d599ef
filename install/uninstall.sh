#!/usr/bin/env bash
# Remove dockward: first from dockerd's configuration (so Docker keeps working),
# then the service and the binary. Policies and audit logs are kept unless --purge.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: install/uninstall.sh [--purge]

  --purge   also delete /etc/dockward (policies, config), /var/log/dockward (audit logs)
            and /var/lib/dockward (the ownership store)
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
say() { printf '==> %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }

if [ -x "$PREFIX/bin/dockward" ] && [ -f "$DAEMON_JSON" ]; then
	"$PREFIX/bin/dockward" daemon-config disable --file "$DAEMON_JSON"
	if pid=$(pidof dockerd 2>/dev/null); then
		say "reloading dockerd (SIGHUP) so it stops asking dockward"
		if [ -d /run/systemd/system ] && systemctl is-active --quiet docker; then systemctl reload docker; else kill -HUP $pid; fi
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
rm -rf "$PREFIX/share/doc/dockward"
if [ "$PURGE" -eq 1 ]; then
	say "purging $ETC, /var/log/dockward and /var/lib/dockward"
	rm -rf "$ETC" /var/log/dockward /var/lib/dockward
else
	say "kept $ETC (policies, config), /var/log/dockward (audit log) and /var/lib/dockward (ownership store); --purge deletes them"
fi
say "dockward removed"
