#!/usr/bin/env bash
# The main job on the embedded default (no Redis, no database server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/kakitori ] || bash scripts/setup.sh
.venv/bin/kakitori demo "$@"
