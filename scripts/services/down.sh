#!/usr/bin/env bash
# Stop the Kafka node(s) started by scripts/services/up.sh (idempotent).
# SIGTERM first (controlled shutdown), SIGKILL after KAFKA_STOP_TIMEOUT seconds
# (default 30). PostgreSQL and Redis are machine services and are left running.
#
# Usage: scripts/services/down.sh [--purge]
#   --purge   also delete the Kafka data and logs (<repo>/.services/kafka)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

purge=0
while (($#)); do
  case "$1" in
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (usage: down.sh [--purge])" ;;
  esac
done

if [[ -d "$KAFKA_STATE_DIR" ]]; then
  take_lock
  mapfile -t pids < <(all_kafka_pids)
  if ((${#pids[@]})); then
    log "stopping Kafka (pid(s) ${pids[*]})…"
    t0=$SECONDS
    # All nodes at once: stopping a 3-node cluster one by one would leave the
    # last node(s) without a controller quorum and make their shutdown hang.
    count="$(active_count)"
    STOP_GRACE="$KAFKA_STOP_TIMEOUT"
    if [[ "$count" =~ ^[0-9]+$ ]]; then STOP_GRACE="$(stop_grace "$count")"; fi
    if ((STOP_GRACE < KAFKA_STOP_TIMEOUT)); then
      log "most of the $count nodes are already down (no controller quorum): ${STOP_GRACE}s grace before SIGKILL"
    fi
    stop_pids graceful "${pids[@]}"
    log "Kafka stopped ($((SECONDS - t0))s)"
  else
    log "Kafka: not running"
  fi
  rm -f "$KAFKA_STATE_DIR"/*-node/node-*/kafka.pid "$KAFKA_STATE_DIR/active"
  if ((purge)); then
    # Keep the lock file we hold; remove the data, logs and cluster ids.
    rm -rf "$KAFKA_STATE_DIR"/*-node
    log "purged Kafka data and logs under $KAFKA_STATE_DIR"
  fi
else
  log "Kafka: not running (no $KAFKA_STATE_DIR)"
fi
rm -f "$STATE_DIR/env"
log "PostgreSQL and Redis left running (machine services)"
