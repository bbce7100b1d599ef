#!/usr/bin/env bash
# Build dockward as a managed Docker plugin (docker plugin create). Run as root
# (or a member of the docker group) from a checkout:
#   install/build-plugin.sh
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: install/build-plugin.sh [--version V] [--dir DIR] [--keep] [-H HOST] [--help]

Builds a static dockward, lays out a plugin directory (DIR/rootfs with the
binary, the default policies at /etc/dockward/policies, the mount points and
/tmp; DIR/config.json from the repository) and runs
  docker plugin create dockward:VERSION DIR
then prints how to enable, configure, upgrade and remove the plugin.

  --version V   plugin tag (default: git describe --tags --always --dirty, else "dev")
  --dir DIR     plugin directory to build in (default: a temporary directory,
                removed afterwards unless --keep)
  --keep        keep the plugin directory
  -H HOST       daemon to create the plugin on (as docker -H; DOCKER_HOST works too)

Environment: DOCKER (the docker command, default "docker"; e.g.
DOCKER="docker -H unix:///run/other.sock"), GO (default "go"), VERSION.
USAGE
}

REPO=$(cd "$(dirname "$0")/.." && pwd)
VERSION=${VERSION:-}
DIR=""
KEEP=0
read -r -a DOCKER_CMD <<<"${DOCKER:-docker}"
GO=${GO:-go}

while [ $# -gt 0 ]; do
	case "$1" in
	--version) [ $# -ge 2 ] || { usage >&2; exit 2; }; VERSION=$2; shift 2 ;;
	--version=*) VERSION=${1#*=}; shift ;;
	--dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; DIR=$2; shift 2 ;;
	--dir=*) DIR=${1#*=}; shift ;;
	--keep) KEEP=1; shift ;;
	-H | --host) [ $# -ge 2 ] || { usage >&2; exit 2; }; DOCKER_CMD+=(-H "$2"); shift 2 ;;
	-H=* | --host=*) DOCKER_CMD+=(-H "${1#*=}"); shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "build-plugin.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'build-plugin.sh: %s\n' "$*" >&2; exit 1; }

command -v "$GO" >/dev/null || die "Go is needed to build dockward (https://go.dev/dl/); none found on PATH"
command -v "${DOCKER_CMD[0]}" >/dev/null || die "no docker CLI (${DOCKER_CMD[0]}) on PATH"
[ -f "$REPO/config.json" ] || die "$REPO/config.json is missing"
[ -d "$REPO/policies" ] || die "$REPO/policies is missing"

if [ -z "$VERSION" ]; then
	VERSION=$(git -C "$REPO" describe --tags --always --dirty 2>/dev/null || echo dev)
fi
# A plugin tag: letters, digits, _ . - (at most 128, not starting with . or -).
[[ $VERSION =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "version $VERSION is not a valid tag"
NAME="dockward:$VERSION"

if [ -z "$DIR" ]; then
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/dockward-plugin.XXXXXX")
	[ "$KEEP" -eq 1 ] || trap 'rm -rf "$DIR"' EXIT
else
	[ ! -e "$DIR/rootfs" ] || die "$DIR/rootfs already exists; remove it or choose another --dir"
	mkdir -p "$DIR"
fi
DIR=$(cd "$DIR" && pwd)
ROOTFS="$DIR/rootfs"

say "building dockward $VERSION (static)"
mkdir -p "$ROOTFS"
(cd "$REPO" && CGO_ENABLED=0 "$GO" build -trimpath \
	-ldflags "-s -w -X github.com/dockward/dockward/plugin/cli.Version=$VERSION" \
	-o "$ROOTFS/dockward" ./plugin)

say "laying out $DIR"
# Mount points (config.json) and scratch space; the policies are the
# defaults, shadowed by the host's /etc/dockward/policies once mounted.
install -d -m 0755 "$ROOTFS/etc/dockward" "$ROOTFS/var/log/dockward" "$ROOTFS/var/lib/dockward" "$ROOTFS/host" \
	"$ROOTFS/run/docker/plugins" "$ROOTFS/proc" "$ROOTFS/sys" "$ROOTFS/dev"
install -d -m 1777 "$ROOTFS/tmp"
cp -R "$REPO/policies" "$ROOTFS/etc/dockward/policies"
: >"$ROOTFS/run/docker.sock"
cp "$REPO/config.json" "$DIR/config.json"

say "creating plugin $NAME"
"${DOCKER_CMD[@]}" plugin create "$NAME" "$DIR"

HOSTFLAG=""
if [ ${#DOCKER_CMD[@]} -gt 1 ]; then
	HOSTFLAG=" ${DOCKER_CMD[*]:1}"
fi
cat <<EOF

Plugin $NAME created (disabled). Next steps:

  1. Policies, the audit log and the ownership store come from the host (defaults
     /etc/dockward/policies, /var/log/dockward and /var/lib/dockward; all must exist):
       sudo install -d /etc/dockward /var/log/dockward /var/lib/dockward
       sudo cp -R $REPO/policies /etc/dockward/policies
     or point the plugin elsewhere:
       docker$HOSTFLAG plugin set $NAME policies.source=/path audit.source=/path state.source=/path docker.source=/run/docker.sock

  2. Enable it:
       docker$HOSTFLAG plugin enable $NAME

  3. Make dockerd use it, in /etc/docker/daemon.json:
       "authorization-plugins": ["$NAME"]
     then reload dockerd (sudo systemctl reload docker, or kill -HUP its pid).

Upgrade: while dockerd uses the plugin, plugin_admin_only denies disabling it
(except to admins over TLS), so take "$NAME" out of authorization-plugins and
reload dockerd first, then
       docker$HOSTFLAG plugin disable $NAME
       docker$HOSTFLAG plugin upgrade $NAME <remote plugin image>   # or re-create:
       docker$HOSTFLAG plugin rm $NAME && install/build-plugin.sh --version NEW
       docker$HOSTFLAG plugin enable dockward:NEW
and put the (new) name back in daemon.json and reload dockerd.

Remove: take "$NAME" out of authorization-plugins in daemon.json and reload
dockerd FIRST (a daemon configured with a missing plugin refuses to start), then
       docker$HOSTFLAG plugin disable $NAME
       docker$HOSTFLAG plugin rm $NAME

The plugin sees host paths through a read-only /host mount of the host's /.
EOF
