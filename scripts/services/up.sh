#!/usr/bin/env bash
# Start the real services used by development and tests (idempotent):
#   - PostgreSQL and Redis: machine services, started if installed but stopped;
#   - Apache Kafka in KRaft mode (combined broker+controller nodes) on loopback,
#     run from jars resolved out of Maven Central (cached after the first run).
# Prints KEY=VALUE connection settings on stdout and writes them as export
# lines to <repo>/.services/env (source it from test scripts).
#
# Usage: scripts/services/up.sh [--brokers N]      (or KAFKA_BROKERS_COUNT=N)
#   N=1 (default): one node, broker 127.0.0.1:19092, controller :19192
#   N=3: three nodes, brokers :19092-19094, controllers :19192-19194,
#        controller quorum of 3, replication factor 3, min.insync.replicas=2
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

count="${KAFKA_BROKERS_COUNT:-1}"
while (($#)); do
  case "$1" in
    --brokers) (($# >= 2)) || die "--brokers needs a value (1 or 3)"; count="$2"; shift 2 ;;
    --brokers=*) count="${1#--brokers=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$count" =~ ^[1-9]$ ]] || die "--brokers / KAFKA_BROKERS_COUNT must be 1..9 (normally 1 or 3), got '$count'"

t_start=$SECONDS
DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL="redis://127.0.0.1:6379"

# ------------------------------------------------------------- PostgreSQL ----
pg_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null
  else
    port_open 5432
  fi
}

ensure_postgres() {
  if pg_ready; then log "PostgreSQL: running on 127.0.0.1:5432"; return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ ! -d /etc/postgresql ]]; then
    die "PostgreSQL is not installed (no pg_ctlcluster / /etc/postgresql): apt-get install postgresql"
  fi
  local ver
  ver="$(find /etc/postgresql -mindepth 2 -maxdepth 2 -type d -name main -printf '%h\n' 2>/dev/null \
    | xargs -r -n1 basename | sort -V | tail -n 1)"
  [[ -n "$ver" ]] || die "PostgreSQL is installed but has no 'main' cluster under /etc/postgresql (pg_createcluster <version> main)"
  if pg_lsclusters -h 2>/dev/null | awk -v v="$ver" '$1 == v && $2 == "main" && $4 == "online" {found=1} END {exit !found}'; then
    die "PostgreSQL $ver/main is running but does not answer on 127.0.0.1:5432 (check port / listen_addresses in /etc/postgresql/$ver/main/postgresql.conf)"
  fi
  log "PostgreSQL $ver: not running, starting it…"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start 9>&- \
    || die "could not start PostgreSQL ($ver/main); see /var/log/postgresql/postgresql-$ver-main.log"
  local i
  for ((i = 0; i < 60; i++)); do pg_ready && break; sleep 0.5; done
  pg_ready || die "PostgreSQL $ver/main started but does not answer on 127.0.0.1:5432 (is it configured for another port?)"
  log "PostgreSQL $ver: started"
}

# ------------------------------------------------------------------ Redis ----
redis_ready() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null || true)" == PONG ]]
  else
    port_open 6379
  fi
}

ensure_redis() {
  if redis_ready; then log "Redis: running on 127.0.0.1:6379"; return 0; fi
  command -v redis-server >/dev/null 2>&1 || die "Redis is not installed (no redis-server): apt-get install redis-server"
  log "Redis: not running, starting it…"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log 9>&- \
    || die "could not start redis-server; see /var/log/redis/ci.log"
  local i
  for ((i = 0; i < 40; i++)); do redis_ready && break; sleep 0.25; done
  redis_ready || { tail -n 20 /var/log/redis/ci.log >&2 || true; die "Redis started but does not answer on 127.0.0.1:6379"; }
  log "Redis: started"
}

# ------------------------------------------------------------------ Kafka ----
ensure_kafka() {
  take_lock
  ensure_kafka_jars

  # Another cluster size running? Its ports overlap with ours.
  local other n dir pid
  for dir in "$KAFKA_STATE_DIR"/*-node; do
    [[ -d "$dir" ]] || continue
    other="${dir##*/}"; other="${other%-node}"
    [[ "$other" == "$count" ]] && continue
    for n in "$dir"/node-*; do
      [[ -d "$n" ]] || continue
      pid="$(node_pid "$n")"
      [[ -z "$pid" ]] || die "a $other-node Kafka is running (pid $pid); run scripts/services/down.sh first to switch to $count node(s)"
    done
  done

  local to_start=() running=() foreign_ids=() id port
  for ((id = 1; id <= count; id++)); do
    dir="$(node_dir "$count" "$id")"
    pid="$(node_pid "$dir")"
    if [[ -n "$pid" ]]; then
      echo "$pid" >"$dir/kafka.pid"   # re-create it if it was lost
      running+=("$id")
      continue
    fi
    rm -f "$dir/kafka.pid"
    local foreign=""
    for port in "$(broker_port "$id")" "$(controller_port "$id")"; do
      if port_open "$port"; then
        # A broker these scripts started from another checkout of the repository
        # (its state lives there): reuse it rather than fail; tests use unique topics.
        local fpid
        fpid="$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)"
        if [[ -n "$fpid" ]] && tr '\0' ' ' <"/proc/$fpid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
          foreign="$fpid"
          continue
        fi
        ss -ltnp "sport = :$port" >&2 2>/dev/null || true
        die "port $port is already in use by another process (not a Kafka started by these scripts); stop it or set KAFKA_BASE_PORT / KAFKA_CONTROLLER_BASE_PORT"
      fi
    done
    if [[ -n "$foreign" ]]; then
      log "Kafka node $id: a broker started from another checkout (pid $foreign) already serves its ports; using it"
      foreign_ids+=("$id")
      continue
    fi
    to_start+=("$id")
  done
  if ((${#to_start[@]} == 0 && ${#running[@]} == 0 && ${#foreign_ids[@]} > 0)); then
    return 0
  fi

  echo "$count" >"$KAFKA_STATE_DIR/active"
  if ((${#running[@]})); then
    log "Kafka: node(s) ${running[*]} already running"
  fi
  if ((${#to_start[@]} == 0)); then
    if wait_ready "$count" "${running[@]}"; then return 0; fi
    die "Kafka is running but not ready; see above (scripts/services/down.sh, then up.sh again)"
  fi

  find_java
  log "Kafka $KAFKA_VERSION: starting ${#to_start[@]} of $count node(s) (KRaft, heap: $KAFKA_HEAP_OPTS)…"
  for id in "${to_start[@]}"; do write_node_config "$count" "$id"; done
  format_nodes "$count" "${to_start[@]}"
  for id in "${to_start[@]}"; do launch_node "$count" "$id"; done
  if ! wait_ready "$count" "${to_start[@]}" "${running[@]+"${running[@]}"}"; then
    log "stopping the node(s) this run started (${to_start[*]})"
    local pids=()
    for id in "${to_start[@]}"; do
      pid="$(node_pid "$(node_dir "$count" "$id")")"
      [[ -n "$pid" ]] && pids+=("$pid")
    done
    stop_pids graceful "${pids[@]+"${pids[@]}"}"
    die "Kafka did not start"
  fi
}

ensure_postgres
# The ETL's CDC mode (pgoutput) needs wal_level=logical; a no-op once it is set.
bash "$(dirname "${BASH_SOURCE[0]}")/postgres-logical.sh"
ensure_redis
ensure_kafka

KAFKA_BROKERS="$(brokers_list "$count")"
mkdir -p "$STATE_DIR"
tmp_env="$(mktemp "$STATE_DIR/.env.XXXXXX")"
cat >"$tmp_env" <<EOF
# Written by scripts/services/up.sh on $(date -Is); removed by down.sh.
# Usage: source .services/env
export KAFKA_BROKERS=$KAFKA_BROKERS
export KAFKA_BROKERS_COUNT=$count
export DATABASE_URL=$DATABASE_URL
export REDIS_URL=$REDIS_URL
EOF
mv "$tmp_env" "$STATE_DIR/env"

log "all services ready in $((SECONDS - t_start))s (env: $STATE_DIR/env)"
echo "KAFKA_BROKERS=$KAFKA_BROKERS"
echo "DATABASE_URL=$DATABASE_URL"
echo "REDIS_URL=$REDIS_URL"
