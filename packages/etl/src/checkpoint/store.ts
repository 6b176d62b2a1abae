/**
 * Checkpoints and sync status in the metadata Postgres (tables of
 * packages/etl/sql/postgres/0200_etl.sql).
 *
 * Invariants:
 * - A checkpoint is written only after the ClickHouse insert it covers has
 *   been confirmed (callers land first, then call these functions).
 * - Every write that moves a table forward is fenced on the generation (and,
 *   for the keyset cursor, on the position it started from): a run working
 *   from stale state — a lock lost mid-run, a resync meanwhile — fails with
 *   CheckpointConflictError instead of moving the table backwards or sideways.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { InternalError, pgExec, pgMaybeOne, pgOne, pgRows, withTransaction, type Queryable } from '@tidemark/core';
import { CheckpointConflictError } from '../errors';
import type { TableConfig } from '../config/schema';
import { chunkRow, sourceRow, tableRow, toSourceState, toTableState, type LandedColumn, type SourceState, type TableState } from './rows';

export type { LandedColumn, Phase, SourceState, TableState } from './rows';

const tableByKey = { name: 'etl.table_state', sql: `SELECT * FROM etl_tables WHERE table_key = $1`, row: tableRow };
const allTables = { name: 'etl.table_states', sql: `SELECT * FROM etl_tables ORDER BY table_key`, row: tableRow };
const sourceByName = { name: 'etl.source_state', sql: `SELECT * FROM etl_sources WHERE source = $1`, row: sourceRow };
const allSources = { name: 'etl.source_states', sql: `SELECT * FROM etl_sources ORDER BY source`, row: sourceRow };
const chunksOf = {
  name: 'etl.snapshot_chunks',
  sql: `SELECT chunk_no, lo, hi, status, rows FROM etl_snapshot_chunks WHERE table_key = $1 AND generation = $2 ORDER BY chunk_no`,
  row: chunkRow,
};
const runId = {
  name: 'etl.start_run',
  sql: `INSERT INTO etl_runs (table_key, kind, started_at, status) VALUES ($1, $2, now(), 'running') RETURNING id`,
  row: z.object({ id: z.coerce.number() }),
};

function conflict(key: string, what: string): CheckpointConflictError {
  return new CheckpointConflictError(`${key}: ${what}; another run moved this table (or it was resynced) — this run's work is kept, its checkpoint is not`, {
    context: { table: key },
  });
}

/** Registers a configured table (idempotent) and returns its state. */
export async function ensureTableState(meta: Queryable, cfg: TableConfig): Promise<TableState> {
  const row = await pgOne(
    meta,
    {
      name: 'etl.ensure_table_state',
      sql: `INSERT INTO etl_tables (table_key, source, source_schema, source_table, target_table, mode, stall_after_seconds, project)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (table_key) DO UPDATE SET target_table = EXCLUDED.target_table, stall_after_seconds = EXCLUDED.stall_after_seconds, project = EXCLUDED.project
            RETURNING *`,
      row: tableRow,
    },
    [cfg.key, cfg.source, cfg.schema, cfg.name, cfg.target, cfg.mode, Math.ceil(cfg.stallAfterMs / 1000), cfg.project],
  );
  return toTableState(row);
}

export async function getTableState(meta: Queryable, key: string): Promise<TableState | undefined> {
  const row = await pgMaybeOne(meta, tableByKey, [key]);
  return row ? toTableState(row) : undefined;
}

/** The state of a table registered earlier in this run (ensureTableState); its absence is a bug. */
export async function requireTableState(meta: Queryable, key: string): Promise<TableState> {
  const state = await getTableState(meta, key);
  if (!state) throw new InternalError(`${key}: no etl_tables row (the table was not registered)`, { context: { table: key } });
  return state;
}

export async function listTableStates(meta: Queryable): Promise<TableState[]> {
  return (await pgRows(meta, allTables)).map(toTableState);
}

export interface ChunkPlan {
  lo: string[] | null;
  hi: string[] | null;
}

export interface Chunk extends ChunkPlan {
  chunkNo: number;
  status: 'pending' | 'done';
  rows: number | null;
}

/**
 * Starts (or restarts from scratch) the snapshot of the table's current
 * generation: stores its version, horizon, columns and chunk plan in one
 * transaction.
 */
export async function beginSnapshot(
  meta: Pool,
  key: string,
  generation: number,
  plan: { version: string; horizon: string | null; mode: TableConfig['mode']; columns: LandedColumn[]; chunks: ChunkPlan[] },
): Promise<void> {
  await withTransaction(meta, async (client) => {
    const upd = await pgExec(
      client,
      `UPDATE etl_tables SET phase = 'snapshot', mode = $3, snapshot_version = $4, snapshot_horizon = $5, columns = $6,
              snapshot_rows = 0, snapshot_started_at = now(), snapshot_finished_at = NULL,
              cursor_value = NULL, cursor_key = NULL, resnapshot_reason = NULL, updated_at = now()
        WHERE table_key = $1 AND generation = $2`,
      [key, generation, plan.mode, plan.version, plan.horizon, JSON.stringify(plan.columns)],
    );
    if (upd !== 1) throw conflict(key, 'snapshot start');
    await pgExec(client, `DELETE FROM etl_snapshot_chunks WHERE table_key = $1`, [key]);
    // One multi-row insert per few hundred chunks keeps big plans fast.
    for (let i = 0; i < plan.chunks.length; i += 500) {
      const part = plan.chunks.slice(i, i + 500);
      const values: unknown[] = [];
      const tuples = part.map((c, j) => {
        values.push(key, generation, i + j, c.lo === null ? null : JSON.stringify(c.lo), c.hi === null ? null : JSON.stringify(c.hi));
        const b = j * 5;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::jsonb, $${b + 5}::jsonb)`;
      });
      await pgExec(client, `INSERT INTO etl_snapshot_chunks (table_key, generation, chunk_no, lo, hi) VALUES ${tuples.join(', ')}`, values);
    }
  });
}

export async function listChunks(meta: Pool, key: string, generation: number): Promise<Chunk[]> {
  const rows = await pgRows(meta, chunksOf, [key, generation]);
  return rows.map((r) => ({ chunkNo: r.chunk_no, lo: r.lo, hi: r.hi, status: r.status, rows: r.rows }));
}

/** Marks one chunk landed. Called only after every block of the chunk is confirmed by ClickHouse. */
export async function completeChunk(meta: Pool, key: string, generation: number, chunkNo: number, rows: number): Promise<void> {
  await withTransaction(meta, async (client) => {
    const done = await pgExec(
      client,
      `UPDATE etl_snapshot_chunks SET status = 'done', rows = $4, done_at = now()
        WHERE table_key = $1 AND generation = $2 AND chunk_no = $3 AND status = 'pending'`,
      [key, generation, chunkNo, rows],
    );
    if (done !== 1) throw conflict(key, `chunk ${chunkNo} already done or gone`);
    const upd = await pgExec(
      client,
      `UPDATE etl_tables SET snapshot_rows = snapshot_rows + $3, rows_synced = rows_synced + $3, updated_at = now()
        WHERE table_key = $1 AND generation = $2 AND phase = 'snapshot'`,
      [key, generation, rows],
    );
    if (upd !== 1) throw conflict(key, 'snapshot progress');
  });
}

/** Ends the snapshot: the table continues incrementally from `cursor` (cursor mode) or the CDC stream. */
export async function finishSnapshot(
  meta: Pool,
  key: string,
  generation: number,
  next: { cursorValue: string | null; cursorKey: string[] | null; watermark: string | null; lagSeconds: number | null },
): Promise<void> {
  const upd = await pgExec(
    meta,
    `UPDATE etl_tables SET phase = 'incremental', snapshot_finished_at = now(), cursor_value = $3, cursor_key = $4::jsonb,
            watermark = $5, lag_seconds = $6, last_success_at = now(), last_error = NULL, consecutive_failures = 0, updated_at = now()
      WHERE table_key = $1 AND generation = $2 AND phase = 'snapshot'`,
    [key, generation, next.cursorValue, next.cursorKey === null ? null : JSON.stringify(next.cursorKey), next.watermark, next.lagSeconds],
  );
  if (upd !== 1) throw conflict(key, 'snapshot finish');
  await pgExec(meta, `DELETE FROM etl_snapshot_chunks WHERE table_key = $1 AND generation = $2`, [key, generation]);
}

/**
 * Moves the keyset cursor from `from` to `to` after a page was landed.
 * Compare-and-set on the position: if it is no longer `from`, someone else
 * moved it and this run stops.
 */
export async function advanceCursor(
  meta: Pool,
  key: string,
  generation: number,
  from: { value: string | null; key: string[] | null },
  to: { value: string; key: string[] | null },
  rows: number,
): Promise<void> {
  const upd = await pgExec(
    meta,
    `UPDATE etl_tables SET cursor_value = $5, cursor_key = $6::jsonb, rows_synced = rows_synced + $7, updated_at = now()
      WHERE table_key = $1 AND generation = $2 AND phase = 'incremental'
        AND cursor_value IS NOT DISTINCT FROM $3 AND cursor_key IS NOT DISTINCT FROM $4::jsonb`,
    [key, generation, from.value, from.key === null ? null : JSON.stringify(from.key), to.value, to.key === null ? null : JSON.stringify(to.key), rows],
  );
  if (upd !== 1) throw conflict(key, 'cursor advance');
}

/** Adds landed rows (CDC batches, reconciliation repairs, full-mode reloads) to the table's counters. */
export async function addRows(meta: Queryable, key: string, rows: number): Promise<void> {
  if (rows <= 0) return;
  await pgExec(meta, `UPDATE etl_tables SET rows_synced = rows_synced + $2, updated_at = now() WHERE table_key = $1`, [key, rows]);
}

/** A run succeeded: every change before `watermark` (source clock) is landed. */
export async function recordSuccess(
  meta: Queryable,
  key: string,
  generation: number,
  info: { watermark: string | null; lagSeconds: number | null },
): Promise<void> {
  await pgExec(
    meta,
    `UPDATE etl_tables SET last_run_at = now(), last_success_at = now(), last_error = NULL, consecutive_failures = 0,
            watermark = COALESCE($3, watermark), lag_seconds = $4, updated_at = now()
      WHERE table_key = $1 AND generation = $2`,
    [key, generation, info.watermark, info.lagSeconds],
  );
}

export async function recordFailure(meta: Pool, key: string, message: string): Promise<void> {
  await pgExec(
    meta,
    `UPDATE etl_tables SET last_run_at = now(), last_error = $2, last_error_at = now(), consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE table_key = $1`,
    [key, message.slice(0, 4000)],
  );
}

/** Stops syncing the table until its config changes (configHash) or it is resynced. */
export async function quarantine(meta: Pool, key: string, reason: string, configHash: string): Promise<void> {
  await pgExec(
    meta,
    `UPDATE etl_tables SET phase = 'quarantined', quarantine_reason = $2, quarantined_at = now(), config_hash = $3,
            last_error = $2, last_error_at = now(), consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE table_key = $1`,
    [key, reason.slice(0, 4000), configHash],
  );
}

/**
 * Starts the table over: a new generation (new chunks, new dedup tokens),
 * phase pending. The ClickHouse rows stay until the new snapshot replaces
 * them (its version is newer); reconciliation removes rows deleted since.
 */
export async function resetTable(meta: Pool, key: string, mode: TableConfig['mode'], reason: string | null): Promise<void> {
  await pgExec(
    meta,
    `UPDATE etl_tables SET generation = generation + 1, phase = 'pending', mode = $2, quarantine_reason = NULL, quarantined_at = NULL,
            config_hash = NULL, cursor_value = NULL, cursor_key = NULL, snapshot_version = NULL, snapshot_horizon = NULL,
            resnapshot_reason = $3, updated_at = now()
      WHERE table_key = $1`,
    [key, mode, reason],
  );
  await pgExec(meta, `DELETE FROM etl_snapshot_chunks WHERE table_key = $1`, [key]);
}

/** Records new columns as landed (after ADD COLUMN / MODIFY COLUMN in ClickHouse). */
export async function setColumns(meta: Pool, key: string, columns: LandedColumn[]): Promise<void> {
  await pgExec(meta, `UPDATE etl_tables SET columns = $2, updated_at = now() WHERE table_key = $1`, [key, JSON.stringify(columns)]);
}

/** What a reconciliation found and repaired (stored in etl_tables; sync/reconcile.ts extends it with its run's details). */
export interface ReconcileRecord {
  /** Live keys in the source snapshot. */
  sourceRows: number;
  /** Live keys in ClickHouse after the repair. */
  targetRows: number;
  /** Keys the source has and ClickHouse lacked. */
  missing: number;
  /** Keys ClickHouse had and the source does not. */
  extra: number;
  repaired: number;
  /** Source and target hold the same keys now (and, when compared, the same contents). */
  ok: boolean;
}

export async function recordReconcile(meta: Pool, key: string, r: ReconcileRecord): Promise<void> {
  await pgExec(
    meta,
    `UPDATE etl_tables SET recon_at = now(), recon_source_rows = $2, recon_target_rows = $3, recon_missing = $4, recon_extra = $5,
            recon_repaired = $6, recon_ok = $7, updated_at = now()
      WHERE table_key = $1`,
    [key, r.sourceRows, r.targetRows, r.missing, r.extra, r.repaired, r.ok],
  );
}

/** Run history: one row per run, so "rows synced" over time and failures are visible. */
export async function startRun(meta: Pool, key: string, kind: string): Promise<number> {
  return (await pgOne(meta, runId, [key, kind])).id;
}

export async function finishRun(meta: Pool, id: number, status: 'ok' | 'failed' | 'skipped', rows: number, error?: string): Promise<void> {
  await pgExec(meta, `UPDATE etl_runs SET finished_at = now(), status = $2, rows = $3, error = $4 WHERE id = $1`, [
    id,
    status,
    rows,
    error?.slice(0, 4000) ?? null,
  ]);
}

/** Keeps the run history bounded (the newest `keep` runs per table). */
export async function pruneRuns(meta: Pool, keep = 200): Promise<void> {
  await pgExec(
    meta,
    `DELETE FROM etl_runs r USING (
       SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY table_key ORDER BY started_at DESC, id DESC) AS n FROM etl_runs) x WHERE n > $1
     ) old WHERE r.id = old.id`,
    [keep],
  );
}

export async function ensureSourceState(meta: Queryable, source: string, slot: string, publication: string): Promise<SourceState> {
  const row = await pgOne(
    meta,
    {
      name: 'etl.ensure_source_state',
      sql: `INSERT INTO etl_sources (source, slot_name, publication) VALUES ($1, $2, $3)
            ON CONFLICT (source) DO UPDATE SET publication = EXCLUDED.publication
            RETURNING *`,
      row: sourceRow,
    },
    [source, slot, publication],
  );
  return toSourceState(row);
}

export async function getSourceState(meta: Queryable, source: string): Promise<SourceState | undefined> {
  const row = await pgMaybeOne(meta, sourceByName, [source]);
  return row ? toSourceState(row) : undefined;
}

export async function listSourceStates(meta: Queryable): Promise<SourceState[]> {
  return (await pgRows(meta, allSources)).map(toSourceState);
}

/** The CDC checkpoint: every change up to `lsn` is landed. Written only after the batch's inserts are confirmed. */
export async function advanceSourceLsn(meta: Pool, source: string, lsn: string, lastCommitAt: Date | null): Promise<void> {
  await pgExec(
    meta,
    `UPDATE etl_sources SET confirmed_lsn = $2, slot_status = 'active', last_commit_at = COALESCE($3, last_commit_at), last_error = NULL, updated_at = now()
      WHERE source = $1`,
    [source, lsn, lastCommitAt],
  );
}

export async function updateSource(
  meta: Pool,
  source: string,
  patch: {
    slotStatus?: SourceState['slotStatus'];
    slotLagBytes?: number | null;
    lost?: boolean;
    lastError?: string | null;
    confirmedLsn?: string | null;
    slotName?: string;
  },
): Promise<void> {
  await pgExec(
    meta,
    `UPDATE etl_sources SET slot_status = COALESCE($2, slot_status),
            slot_lag_bytes = CASE WHEN $3::boolean THEN $4::bigint ELSE slot_lag_bytes END,
            slot_lost_at = CASE WHEN $5::boolean THEN now() ELSE slot_lost_at END,
            last_error = CASE WHEN $6::boolean THEN $7 ELSE last_error END,
            confirmed_lsn = CASE WHEN $8::boolean THEN $9 ELSE confirmed_lsn END,
            slot_name = COALESCE($10, slot_name),
            updated_at = now()
      WHERE source = $1`,
    [
      source,
      patch.slotStatus ?? null,
      'slotLagBytes' in patch,
      patch.slotLagBytes ?? null,
      patch.lost === true,
      'lastError' in patch,
      patch.lastError ?? null,
      'confirmedLsn' in patch,
      patch.confirmedLsn ?? null,
      patch.slotName ?? null,
    ],
  );
}
