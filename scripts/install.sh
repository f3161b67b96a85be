#!/usr/bin/env bash
# Install palaute on a Raspberry Pi OS / Debian device, idempotently.
#
#   sudo scripts/install.sh kiosk,sms,sync      # the roles this device has
#   sudo scripts/install.sh central              # the central server
#
# Creates the system user `palaute`, installs the Debian packages each role
# needs, builds the virtual environment /opt/palaute/venv with the system
# python from a copy of this checkout (a normal, not an editable, install) and
# places the unit files. It does not write a configuration: run
# `palaute provision` afterwards. Running it again changes only what differs.
#
# Tests install into scratch folders with PALAUTE_PREFIX, PALAUTE_UNITS_DIR,
# PALAUTE_BIN_DIR, PALAUTE_ETC, PALAUTE_DATA and PALAUTE_USER (the unit files
# always name User=palaute).
set -euo pipefail

ROLES=${1:-}
PREFIX=${PALAUTE_PREFIX:-/opt/palaute}
UNITS_DIR=${PALAUTE_UNITS_DIR:-/etc/systemd/system}
BIN_DIR=${PALAUTE_BIN_DIR:-/usr/local/bin}
ETC=${PALAUTE_ETC:-/etc/palaute}
DATA=${PALAUTE_DATA:-/var/lib/palaute}
USER_NAME=${PALAUTE_USER:-palaute}
PYTHON=${PALAUTE_PYTHON:-/usr/bin/python3}
SRC=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

[ -n "$ROLES" ] || die "give the roles, e.g.: sudo $0 kiosk,sync   (roles: kiosk sms sync central)"
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 $ROLES)"

packages=(python3 python3-venv python3-pip)
groups=()
IFS=, read -r -a role_list <<<"$ROLES"
for role in "${role_list[@]}"; do
    case "$role" in
        kiosk)   packages+=(espeak-ng libsdl2-2.0-0 libsdl2-mixer-2.0-0 libsdl2-ttf-2.0-0 fonts-dejavu-core)
                 groups+=(gpio audio video render input) ;;
        sms)     groups+=(dialout) ;;
        sync)    ;;
        central) packages+=(mosquitto postgresql libvoikko1 voikko-fi) ;;   # voikko: free-text topics
        *) die "unknown role '$role' (roles: kiosk sms sync central)" ;;
    esac
done

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x "$PYTHON" ] || die "$PYTHON not found (apt-get install python3 python3-venv)"

if ! id "$USER_NAME" >/dev/null 2>&1; then
    say "creating system user $USER_NAME"
    useradd --system --user-group --home-dir "$DATA" --no-create-home \
        --shell /usr/sbin/nologin "$USER_NAME"
fi
for g in "${groups[@]}"; do
    if getent group "$g" >/dev/null; then
        id -nG "$USER_NAME" | tr ' ' '\n' | grep -qx "$g" || usermod -a -G "$g" "$USER_NAME"
    else
        say "group $g does not exist on this system; skipped (the unit lists it)"
    fi
done

install -d -m 0755 "$PREFIX"
install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$DATA"
install -d -m 0750 -o root -g "$USER_NAME" "$ETC"

# The code: a copy of this checkout (not a link: the device must not depend on it).
rsync_src="$SRC/"
if command -v rsync >/dev/null; then
    rsync -a --delete --exclude .git --exclude .venv --exclude '__pycache__' "$rsync_src" "$PREFIX/src/"
else
    rm -rf "$PREFIX/src.new" && mkdir -p "$PREFIX/src.new"
    (cd "$SRC" && tar --exclude=.git --exclude=.venv --exclude=__pycache__ -cf - .) | tar -C "$PREFIX/src.new" -xf -
    rm -rf "$PREFIX/src" && mv "$PREFIX/src.new" "$PREFIX/src"
fi
[ -x "$PREFIX/venv/bin/python" ] || "$PYTHON" -m venv "$PREFIX/venv"
say "installing palaute into $PREFIX/venv (pip)"
# A normal install (not editable): the device runs the copy in the venv. The pip cache
# makes a re-run quick.
"$PREFIX/venv/bin/pip" install -q --disable-pip-version-check "$PREFIX/src"
cp "$SRC/README.md" "$PREFIX/README.md"
install -d -m 0755 "$BIN_DIR"
ln -sf "$PREFIX/venv/bin/palaute" "$BIN_DIR/palaute"

install -d -m 0755 "$UNITS_DIR"
for role in "${role_list[@]}"; do
    unit="palaute-$role.service"
    if ! cmp -s "$SRC/palaute/systemd/$unit" "$UNITS_DIR/$unit" 2>/dev/null; then
        say "placing $unit"
        install -m 0644 "$SRC/palaute/systemd/$unit" "$UNITS_DIR/$unit"
    fi
done
if [ -d /run/systemd/system ] && [ "$UNITS_DIR" = /etc/systemd/system ]; then
    systemctl daemon-reload
fi
say "done. Next: sudo palaute provision   (or: sudo palaute provision --enroll URL --token T)"
