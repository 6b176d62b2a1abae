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

# Installs a Debian package when the command a test needs is missing: once,
# as root or through passwordless sudo; otherwise it says what to run and the
# test that needs it fails naming the path.
#   tm_ensure_apt <binary path> <package> <what needs it>
tm_ensure_apt() {
  local bin=$1 pkg=$2 why=$3
  [ -x "$bin" ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "==> $bin is missing and apt-get is not available: install $pkg ($why)" >&2
    return 0
  fi
  local sudo=''
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo='sudo'
    else
      echo "==> $bin is missing; run: sudo apt-get install -y $pkg ($why)" >&2
      return 0
    fi
  fi
  echo "==> installing $pkg for $why (apt-get install $pkg; a minute or two, once)" >&2
  if ! { $sudo apt-get install -y --no-install-recommends "$pkg" >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends "$pkg" >&2; }; }; then
    echo "==> $pkg could not be installed; $why will fail naming $bin" >&2
  fi
}

# The dashboard's browser test (packages/web/test/dashboard.int.test.ts) drives
# Debian's chromium through playwright-core.
tm_ensure_chromium() {
  tm_ensure_apt "${TIDEMARK_CHROMIUM:-/usr/bin/chromium}" chromium "the dashboard's browser test"
}

# packages/deploy-tests runs the real `docker-compose config` over every compose combination.
tm_ensure_deploy_tools() {
  tm_ensure_apt /usr/bin/docker-compose docker-compose "the compose checks of packages/deploy-tests"
}
