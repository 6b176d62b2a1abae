#!/usr/bin/env bash
# The ingest crash test at the issue's size: 1,000,000 events over HTTP with
# Kafka while the consumer is SIGKILLed 10 times; then the same with Kafka
# restarted once mid-run, and with ClickHouse unreachable for 30 s.
# Needs `npm run build` and `npm run services:up`. Takes several minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
[ -f .services/env ] && source .services/env
export CRASH_EVENTS="${CRASH_EVENTS:-1000000}" CRASH_KILLS="${CRASH_KILLS:-10}"
echo "==> consumer SIGKILLed ${CRASH_KILLS} times"
npx --no-install jest -c test/jest.config.js ingest-crash
echo "==> plus Kafka restarted once"
# After a full-size run with a broker restart, jest waits on a handle left by
# the kafkajs client of the test process (seen after a produce that failed
# during the restart and was resent; not reproduced at small sizes). The test
# has finished and asserted by then; --forceExit lets the script go on.
CRASH_KAFKA_RESTART=1 npx --no-install jest -c test/jest.config.js ingest-crash --forceExit
echo "==> plus ClickHouse unreachable for 30 s"
CRASH_CLICKHOUSE_OUTAGE_S=30 npx --no-install jest -c test/jest.config.js ingest-crash
