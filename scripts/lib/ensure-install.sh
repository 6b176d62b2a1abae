# Sourced by scripts/start.sh and scripts/test.sh: makes a fresh clone ready.
# Installs dependencies when package-lock.json changed since the last install
# and builds every package (turbo caches, so an unchanged tree builds in
# seconds). Progress goes to stderr.
#
# `npm install` (which follows the lock file), not `npm ci`: npm 11 records the
# platform packages of optional native dependencies (swc, turbo) only for the
# platform that wrote the lock, and `npm ci` then refuses the lock as out of
# sync on every machine.

tm_ensure_node() {
  if ! command -v node >/dev/null 2>&1; then
    echo "tidemark: Node.js 20 or newer is required (node not found)" >&2
    exit 1
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "tidemark: Node.js 20 or newer is required (found $(node --version))" >&2
    exit 1
  fi
}

tm_ensure_install() {
  local stamp=node_modules/.tidemark-lock-sha
  local want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing dependencies (npm install; first run takes a minute or two)" >&2
    npm install --no-audit --no-fund --loglevel=error >&2
    sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
  fi
}

tm_build() {
  echo "==> building packages" >&2
  npx --no-install turbo run build --output-logs=errors-only >&2
}
