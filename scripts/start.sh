#!/usr/bin/env bash
# `npm start`: installs and builds on first use, then runs every role of the
# platform in one process on the embedded defaults (nothing else to install).
# Arguments are passed to `tidemark start`, e.g. `npm start -- --data-dir /tmp/tm`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-install.sh
tm_ensure_node
tm_ensure_install
tm_build
exec node packages/cli/dist/bin.js start "$@"
