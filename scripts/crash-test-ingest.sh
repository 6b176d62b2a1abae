#!/usr/bin/env bash
# The ingest crash test at the issue's size (issue 12): 1,000,000 events over
# HTTP with Kafka while the consumer is SIGKILLed 10 times, in every variant
# of test/ingest-crash.int.test.ts, each CRASH_RUNS times (default 5):
#   consumer-kills, kafka-restart (graceful), kafka-kill (SIGKILL + start),
#   clickhouse-outage (30 s), leader-kill (3-broker cluster, a partition
#   leader SIGKILLed). No tolerance: raw = distinct = every rollup = N, empty
#   DLQ, audit 0 lost. Broker faults hit private clusters the test starts
#   (scripts/services with TIDEMARK_SERVICES_DIR), never the shared broker.
# Needs `npm run build` and `npm run services:up` (Postgres, Redis, the
# shared broker). About 2-3 minutes per run on the 2-core machine.
#   CRASH_VARIANT=kafka-kill CRASH_RUNS=1 bash scripts/crash-test-ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
[ -f .services/env ] && source .services/env
export CRASH_EVENTS="${CRASH_EVENTS:-1000000}" CRASH_KILLS="${CRASH_KILLS:-10}"
runs="${CRASH_RUNS:-5}"
variants="${CRASH_VARIANT:-consumer-kills kafka-restart kafka-kill clickhouse-outage leader-kill}"
failed=0
for variant in ${variants//,/ }; do
  for ((run = 1; run <= runs; run++)); do
    echo "==> ${variant}, run ${run}/${runs}: ${CRASH_EVENTS} events, consumer SIGKILLed ${CRASH_KILLS} times"
    # --forceExit: Kafka clients of the test process can keep a socket open
    # for a while after a broker was killed; the test has asserted by then.
    if ! CRASH_VARIANT="$variant" bash scripts/jest.sh -c test/jest.config.js ingest-crash --forceExit; then
      failed=$((failed + 1))
    fi
  done
done
echo "==> ${failed} failed run(s)"
exit $((failed > 0))
