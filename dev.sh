#!/usr/bin/env bash
# The two commands a newcomer needs:  ./dev.sh demo   and   ./dev.sh test
# Both build the virtual environment (.venv) and install the Debian packages
# they need when they are missing and we may install them (root or sudo).
set -euo pipefail
cd "$(dirname "$0")"

VENV=${PALAUTE_VENV:-.venv}
# What the tests and the demo use from Debian: a real broker, a real database
# server for the throwaway test cluster, speech synthesis, a browser to render
# the HTML report, systemd-analyze to verify the units; Pango and DejaVu fonts for
# WeasyPrint's PDF reports, poppler-utils to read a PDF back in tests; Voikko to read
# Finnish free text (survey.topics); Node.js's npm to install axe-core for the web pages'
# accessibility test; what scripts/install.sh puts on a kiosk (SDL), so the field-install
# test need not fetch it mid-test.
SYSTEM_PACKAGES=(python3 python3-venv python3-pip mosquitto postgresql espeak-ng sox chromium chromium-driver nodejs systemd
                 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils libvoikko1 voikko-fi
                 libsdl2-2.0-0 libsdl2-mixer-2.0-0 libsdl2-ttf-2.0-0)

log() { printf 'dev.sh: %s\n' "$*" >&2; }

system_deps() {
    local missing=()
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
            log "missing Debian packages: ${missing[*]}"
            log "install them with: sudo apt-get install ${missing[*]}"
            return 0
        fi
    fi
    log "installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtual environment $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.palaute-installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        log "installing palaute and its dependencies into $VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[dev]'
        touch "$stamp"
    fi
}

# The web pages' accessibility test runs axe-core (the npm package, one JavaScript file)
# inside the test's Chromium; it is installed here, never fetched by a test.
AXE_VERSION=4.14.1
axe() {
    local dir=tests/.axe
    if [ -f "$dir/node_modules/axe-core/axe.min.js" ] && \
       grep -q "\"version\": \"$AXE_VERSION\"" "$dir/node_modules/axe-core/package.json"; then
        return 0
    fi
    if ! command -v npm >/dev/null; then
        log "npm is missing: the accessibility test needs axe-core (sudo apt-get install npm)"
        return 0
    fi
    log "installing axe-core $AXE_VERSION into $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --no-save --prefix "$dir" "axe-core@$AXE_VERSION" >/dev/null
}

cmd=${1:-help}
shift || true
case "$cmd" in
    demo)
        system_deps; venv
        exec "$VENV/bin/palaute" demo "$@"
        ;;
    test)
        system_deps; venv; axe
        log "ruff"; "$VENV/bin/ruff" check .
        log "mypy"; "$VENV/bin/mypy"
        log "pytest"; exec "$VENV/bin/pytest" "$@"
        ;;
    torture)
        system_deps; venv
        exec "$VENV/bin/palaute" torture "$@"
        ;;
    bench)
        system_deps; venv
        # every benchmark, short and bounded (under 10 minutes); one JSON summary
        exec "$VENV/bin/python" bench/run_all.py "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo | test [pytest args] | torture [--minutes N] | bench [--out FILE]" >&2
        exit 2
        ;;
esac
