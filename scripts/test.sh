#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh machine. Installs and builds, starts
# the real services the integration tests use (Kafka from Maven Central jars,
# the local PostgreSQL and Redis), runs lint, type checks, and every
# package's unit and integration tests, then prints one closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-install.sh
tm_ensure_node
tm_ensure_install
tm_ensure_chromium
tm_ensure_deploy_tools
tm_ensure_apt "${TIDEMARK_KCAT:-/usr/bin/kcat}" kcat "the Kafka topic contract test (packages/collector/test/kafka-contract.int.test.ts runs the kcat examples of docs/ingestion.md)"
tm_build

echo "==> starting real services" >&2
bash scripts/services/up.sh >&2
# shellcheck disable=SC1091
source .services/env

echo "==> lint and type checks" >&2
# Formatting first: a file prettier would change fails the run, naming the file (`npm run format` fixes it).
npx --no-install prettier --check . --log-level warn
npx --no-install turbo run lint typecheck --output-logs=errors-only

echo "==> tests (unit: *.test.ts, integration: *.int.test.ts)" >&2
rm -rf .test-results
status=0
npx --no-install turbo run test --concurrency=1 --continue --output-logs=full || status=$?
echo "==> end-to-end tests (test/)" >&2
bash scripts/jest.sh -c test/jest.config.js || status=$?
node scripts/test-summary.mjs || status=$((status == 0 ? 1 : status))
exit "$status"
