#!/usr/bin/env bash
# Make the machine's PostgreSQL able to serve logical replication (pgoutput),
# which the ETL's CDC mode and its tests need. Idempotent:
#   - wal_level already 'logical'      -> nothing to do, exit 0;
#   - wal_level 'replica' or 'minimal' -> ALTER SYSTEM SET wal_level = logical
#     (plus enough replication slots / WAL senders), then restart the local
#     cluster with pg_ctlcluster, because wal_level only changes at start.
# A restart drops every open connection to that cluster: run this before the
# tests start (scripts/services/up.sh calls it right after ensure_postgres).
#
# Usage: scripts/services/postgres-logical.sh        (DATABASE_URL overrides the URL)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
command -v psql >/dev/null 2>&1 || die "psql is not installed (apt-get install postgresql-client)"

setting() { psql "$url" -XAtqc "SHOW $1" 2>/dev/null; }

level="$(setting wal_level)" || die "PostgreSQL does not answer at $url (run scripts/services/up.sh first)"
if [[ "$level" == logical ]]; then
  log "PostgreSQL: wal_level is already logical"
  exit 0
fi

log "PostgreSQL: wal_level is '$level'; setting it to logical (needs a restart)…"
psql "$url" -XAtqc "ALTER SYSTEM SET wal_level = logical" >/dev/null
# Every CDC source holds one slot and one WAL sender; tests create a few at once.
if (( $(setting max_replication_slots) < 20 )); then psql "$url" -XAtqc "ALTER SYSTEM SET max_replication_slots = 20" >/dev/null; fi
if (( $(setting max_wal_senders) < 20 )); then psql "$url" -XAtqc "ALTER SYSTEM SET max_wal_senders = 20" >/dev/null; fi

command -v pg_ctlcluster >/dev/null 2>&1 || die "wal_level is set for the next start, but pg_ctlcluster is missing: restart PostgreSQL yourself"
port="$(psql "$url" -XAtqc 'SHOW port')"
data_dir="$(psql "$url" -XAtqc 'SHOW data_directory')"
ver="$(pg_lsclusters -h | awk -v p="$port" -v d="$data_dir" '$3 == p && $6 == d {print $1; exit}')"
name="$(pg_lsclusters -h | awk -v p="$port" -v d="$data_dir" '$3 == p && $6 == d {print $2; exit}')"
[[ -n "$ver" && -n "$name" ]] || die "no local cluster serves port $port from $data_dir (pg_lsclusters); restart PostgreSQL yourself to apply wal_level=logical"

log "PostgreSQL $ver/$name: restarting…"
pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" restart 9>&- \
  || die "could not restart PostgreSQL $ver/$name; see /var/log/postgresql/postgresql-$ver-$name.log"
for ((i = 0; i < 60; i++)); do
  level="$(setting wal_level || true)"
  [[ -n "$level" ]] && break
  sleep 0.5
done
[[ "$level" == logical ]] || die "PostgreSQL restarted but wal_level is '$level' (expected logical)"
log "PostgreSQL $ver/$name: wal_level is logical"
