#!/usr/bin/env bash
# Set Kakitori up on this machine: Debian packages (as root, where missing), a local .venv with the project.
# Safe to run again. Needs Python 3.11+ and the package registries (PyPI, Debian); nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(chromium chromium-headless-shell fonts-noto-cjk fonts-klee fonts-kiloji fonts-droid-fallback fonts-dejavu-core xvfb xclip xdotool poppler-utils)
PY=${PYTHON:-python3}

missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages first (as root):" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
    echo "setup: continuing; the browser bots, fonts and desktop tests need them." >&2
  fi
fi

"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kakitori needs Python 3.11 or newer")'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
echo "setup: ready: .venv/bin/kakitori"
