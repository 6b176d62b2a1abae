#!/usr/bin/env bash
# Control one node of the Kafka cluster started by scripts/services/up.sh
# (for failure tests: broker crash, graceful stop, restart mid-run).
#
# Usage: scripts/services/kafka-node.sh stop|kill|start|restart <nodeId>
#        scripts/services/kafka-node.sh status
#   stop     graceful: SIGTERM, SIGKILL after KAFKA_STOP_TIMEOUT s (default 30)
#   kill     crash: SIGKILL at once
#   start    start the node again with its existing data, wait until it is ready
#   restart  stop + start
#   status   one line per node: id, state, pid, broker address
# Node ids are 1..N of the running cluster (1 for the single node, 1-3 with --brokers 3).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

(($#)) || { usage >&2; exit 2; }
cmd="$1"; shift
case "$cmd" in -h|--help) usage; exit 0 ;; esac

count="$(active_count)"
[[ -n "$count" ]] || die "no Kafka cluster set up: run scripts/services/up.sh [--brokers 3] first"

if [[ "$cmd" == status ]]; then
  for ((id = 1; id <= count; id++)); do
    dir="$(node_dir "$count" "$id")"
    pid="$(node_pid "$dir")"
    if [[ -z "$pid" ]]; then state=stopped
    elif node_ready "$count" "$id"; then state=ready
    else state=starting; fi
    printf 'node %s  %-8s  pid %-7s  %s:%s\n' "$id" "$state" "${pid:--}" "$KAFKA_HOST" "$(broker_port "$id")"
  done
  exit 0
fi

(($# == 1)) || { usage >&2; die "'$cmd' needs exactly one node id"; }
id="$1"
if ! [[ "$id" =~ ^[0-9]+$ ]] || ((id < 1 || id > count)); then
  die "node id must be 1..$count for the running $count-node cluster, got '$id'"
fi
dir="$(node_dir "$count" "$id")"

take_lock

stop_node() {  # stop_node graceful|kill
  local pid t0=$SECONDS
  pid="$(node_pid "$dir")"
  if [[ -z "$pid" ]]; then log "node $id: not running"; rm -f "$dir/kafka.pid"; return 0; fi
  if [[ "$1" == kill ]]; then log "node $id: SIGKILL pid $pid"; else log "node $id: stopping pid $pid (SIGTERM)…"; fi
  STOP_GRACE="$(stop_grace "$count")"
  if [[ "$1" != kill ]] && ((STOP_GRACE < KAFKA_STOP_TIMEOUT)); then
    log "node $id: most of the cluster is down (no controller quorum): ${STOP_GRACE}s grace before SIGKILL"
  fi
  stop_pids "$1" "$pid"
  rm -f "$dir/kafka.pid"
  log "node $id: stopped ($((SECONDS - t0))s)"
}

start_node() {
  local pid
  pid="$(node_pid "$dir")"
  if [[ -n "$pid" ]]; then
    log "node $id: already running (pid $pid)"
  else
    ensure_kafka_jars
    [[ -f "$dir/data/meta.properties" ]] || die "node $id has no formatted storage in $dir/data; use scripts/services/up.sh"
    for port in "$(broker_port "$id")" "$(controller_port "$id")"; do
      ! port_open "$port" || die "port $port is in use by another process; cannot start node $id"
    done
    write_node_config "$count" "$id"
    launch_node "$count" "$id"
  fi
  wait_ready "$count" "$id" || die "node $id did not become ready (the rest of the quorum must be up for it to register)"
}

case "$cmd" in
  stop) stop_node graceful ;;
  kill) stop_node kill ;;
  start) start_node ;;
  restart) stop_node graceful; start_node ;;
  *) usage >&2; die "unknown command: $cmd" ;;
esac
