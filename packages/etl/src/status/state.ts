/**
 * The rule that names a synced table's state, and the SQL that computes its
 * stall and watermark age, shared by the etl role's status (read.ts) and the
 * query API's reader of the ETL's metadata (packages/api/src/routes/etl-reader.ts).
 *
 * Why a module of its own: the API must not load the etl package's runtime
 * (its index pulls the replication libraries into every API process; the
 * eslint `no-restricted-imports` rule for packages/api/src forbids it), yet a
 * second copy of the rule could drift from this one. So this file imports
 * nothing, not even zod or a sibling module, and the package exports it alone
 * as the subpath `@tidemark/etl/status-state` (package.json "exports"), the
 * one value import from the etl package the eslint rule lets the API make.
 * Keep it that way: anything added here lands in the API process too.
 */

/** A synced table's phases (etl_tables.phase; the checkpoint store's PHASES). */
export const TABLE_SYNC_PHASES = ['pending', 'snapshot', 'incremental', 'quarantined'] as const;
export type TableSyncPhase = (typeof TABLE_SYNC_PHASES)[number];

/** What the status reports for a table: its phase, unless something is wrong. */
export const TABLE_SYNC_STATES = ['ok', 'pending', 'snapshot', 'error', 'quarantined', 'stalled'] as const;
export type TableSyncState = (typeof TABLE_SYNC_STATES)[number];

/**
 * A table's state, the first that holds: quarantined (its phase), stalled
 * (see STALLED_SQL), error (its last run failed), then by phase: ok once
 * incremental, snapshot while the snapshot runs, pending before it starts.
 */
export function tableSyncState(t: { phase: TableSyncPhase; stalled: boolean; consecutiveFailures: number }): TableSyncState {
  if (t.phase === 'quarantined') return 'quarantined';
  if (t.stalled) return 'stalled';
  if (t.consecutiveFailures > 0) return 'error';
  if (t.phase === 'incremental') return 'ok';
  if (t.phase === 'snapshot') return 'snapshot';
  return 'pending';
}

/** A watermark Postgres can read as a timestamp (a cursor watermark may be a number or a text key). */
const TIMESTAMP_WATERMARK = `t.watermark ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}'`;

/**
 * SQL expression over an etl_tables row aliased `t`: the watermark's age in
 * seconds by the database's clock (float8), NULL before the first snapshot
 * landed or when the watermark is not a timestamp.
 */
export const WATERMARK_AGE_SQL = `CASE WHEN t.phase IN ('incremental', 'quarantined') AND ${TIMESTAMP_WATERMARK}
     THEN greatest(0, extract(epoch FROM now() - t.watermark::timestamptz))::float8 END`;

/**
 * SQL expression over an etl_tables row aliased `t`: whether the table is
 * stalled, by the database's clock. An incremental table whose last success
 * is older than its stall threshold, or whose data lags by more than that
 * (runs succeed but cannot advance, e.g. behind a transaction left open on
 * the source); a snapshot (or a pending table) that has not landed a chunk
 * for that long (a long snapshot that progresses is not stalled). NULL, not
 * stalled, when a comparison in it meets a NULL watermark.
 */
export const STALLED_SQL = `CASE WHEN t.phase = 'incremental' THEN now() - coalesce(t.last_success_at, t.updated_at) > t.stall_after_seconds * interval '1 second'
                                  OR coalesce(t.lag_seconds, 0) > t.stall_after_seconds
                                  OR (${TIMESTAMP_WATERMARK}
                                      AND now() - t.watermark::timestamptz > t.stall_after_seconds * interval '1 second')
     WHEN t.phase IN ('snapshot', 'pending') THEN now() - t.updated_at > t.stall_after_seconds * interval '1 second'
     ELSE false END`;
