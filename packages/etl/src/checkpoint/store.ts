/**
 * Checkpoints and sync status in the metadata Postgres (tables of
 * packages/core/sql/postgres/0200_etl.sql).
 *
 * Invariants:
 * - A checkpoint is written only after the ClickHouse insert it covers has
 *   been confirmed (callers land first, then call these functions).
 * - Every write that moves a table forward is fenced on the generation (and,
 *   for the keyset cursor, on the position it started from): a run working
 *   from stale state — a lock lost mid-run, a resync meanwhile — fails with
 *   CheckpointConflictError instead of moving the table backwards or sideways.
 */
import type { Pool, PoolClient } from 'pg';
import { CheckpointConflictError } from '../errors';
import type { TableConfig } from '../config/schema';

/** A column as landed in ClickHouse (the baseline schema evolution compares with). */
export interface LandedColumn {
  name: string;
  /** Source type (format_type), for messages. */
  sourceType: string;
  chType: string;
}

export type Phase = 'pending' | 'snapshot' | 'incremental' | 'quarantined';

export interface TableState {
  tableKey: string;
  source: string;
  project: string;
  sourceSchema: string;
  sourceTable: string;
  targetTable: string;
  mode: TableConfig['mode'];
  generation: number;
  phase: Phase;
  columns: LandedColumn[] | null;
  configHash: string | null;
  snapshotVersion: string | null;
  snapshotHorizon: string | null;
  snapshotRows: number;
  snapshotStartedAt: Date | null;
  snapshotFinishedAt: Date | null;
  cursorValue: string | null;
  cursorKey: string[] | null;
  watermark: string | null;
  lagSeconds: number | null;
  rowsSynced: number;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  consecutiveFailures: number;
  quarantineReason: string | null;
  quarantinedAt: Date | null;
  resnapshotReason: string | null;
  reconAt: Date | null;
  reconSourceRows: number | null;
  reconTargetRows: number | null;
  reconMissing: number | null;
  reconExtra: number | null;
  reconRepaired: number | null;
  reconOk: boolean | null;
  stallAfterSeconds: number;
  updatedAt: Date;
}

type Row = Record<string, unknown>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toState(r: Row): TableState {
  return {
    tableKey: r.table_key as string,
    source: r.source as string,
    project: (r.project as string | undefined) ?? 'default',
    sourceSchema: r.source_schema as string,
    sourceTable: r.source_table as string,
    targetTable: r.target_table as string,
    mode: r.mode as TableConfig['mode'],
    generation: Number(r.generation),
    phase: r.phase as Phase,
    columns: (r.columns as LandedColumn[] | null) ?? null,
    configHash: (r.config_hash as string | null) ?? null,
    snapshotVersion: (r.snapshot_version as string | null) ?? null,
    snapshotHorizon: (r.snapshot_horizon as string | null) ?? null,
    snapshotRows: Number(r.snapshot_rows ?? 0),
    snapshotStartedAt: (r.snapshot_started_at as Date | null) ?? null,
    snapshotFinishedAt: (r.snapshot_finished_at as Date | null) ?? null,
    cursorValue: (r.cursor_value as string | null) ?? null,
    cursorKey: (r.cursor_key as string[] | null) ?? null,
    watermark: (r.watermark as string | null) ?? null,
    lagSeconds: num(r.lag_seconds),
    rowsSynced: Number(r.rows_synced ?? 0),
    lastRunAt: (r.last_run_at as Date | null) ?? null,
    lastSuccessAt: (r.last_success_at as Date | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    lastErrorAt: (r.last_error_at as Date | null) ?? null,
    consecutiveFailures: Number(r.consecutive_failures ?? 0),
    quarantineReason: (r.quarantine_reason as string | null) ?? null,
    quarantinedAt: (r.quarantined_at as Date | null) ?? null,
    resnapshotReason: (r.resnapshot_reason as string | null) ?? null,
    reconAt: (r.recon_at as Date | null) ?? null,
    reconSourceRows: num(r.recon_source_rows),
    reconTargetRows: num(r.recon_target_rows),
    reconMissing: num(r.recon_missing),
    reconExtra: num(r.recon_extra),
    reconRepaired: num(r.recon_repaired),
    reconOk: (r.recon_ok as boolean | null) ?? null,
    stallAfterSeconds: Number(r.stall_after_seconds ?? 300),
    updatedAt: r.updated_at as Date,
  };
}

function conflict(key: string, what: string): CheckpointConflictError {
  return new CheckpointConflictError(`${key}: ${what}; another run moved this table (or it was resynced) — this run's work is kept, its checkpoint is not`, {
    context: { table: key },
  });
}

/** Registers a configured table (idempotent) and returns its state. */
export async function ensureTableState(meta: Pool, cfg: TableConfig): Promise<TableState> {
  await meta.query(
    `INSERT INTO etl_tables (table_key, source, source_schema, source_table, target_table, mode, stall_after_seconds, project)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (table_key) DO UPDATE SET target_table = EXCLUDED.target_table, stall_after_seconds = EXCLUDED.stall_after_seconds, project = EXCLUDED.project`,
    [cfg.key, cfg.source, cfg.schema, cfg.name, cfg.target, cfg.mode, Math.ceil(cfg.stallAfterMs / 1000), cfg.project],
  );
  return getTableState(meta, cfg.key) as Promise<TableState>;
}

export async function getTableState(meta: Pool | PoolClient, key: string): Promise<TableState | undefined> {
  const { rows } = await meta.query(`SELECT * FROM etl_tables WHERE table_key = $1`, [key]);
  return rows[0] ? toState(rows[0] as Row) : undefined;
}

export async function listTableStates(meta: Pool): Promise<TableState[]> {
  const { rows } = await meta.query(`SELECT * FROM etl_tables ORDER BY table_key`);
  return rows.map((r) => toState(r as Row));
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
  const client = await meta.connect();
  try {
    await client.query('BEGIN');
    const upd = await client.query(
      `UPDATE etl_tables SET phase = 'snapshot', mode = $3, snapshot_version = $4, snapshot_horizon = $5, columns = $6,
              snapshot_rows = 0, snapshot_started_at = now(), snapshot_finished_at = NULL,
              cursor_value = NULL, cursor_key = NULL, resnapshot_reason = NULL, updated_at = now()
        WHERE table_key = $1 AND generation = $2`,
      [key, generation, plan.mode, plan.version, plan.horizon, JSON.stringify(plan.columns)],
    );
    if (upd.rowCount !== 1) throw conflict(key, 'snapshot start');
    await client.query(`DELETE FROM etl_snapshot_chunks WHERE table_key = $1`, [key]);
    // One multi-row insert per few hundred chunks keeps big plans fast.
    for (let i = 0; i < plan.chunks.length; i += 500) {
      const part = plan.chunks.slice(i, i + 500);
      const values: unknown[] = [];
      const tuples = part.map((c, j) => {
        values.push(key, generation, i + j, c.lo === null ? null : JSON.stringify(c.lo), c.hi === null ? null : JSON.stringify(c.hi));
        const b = j * 5;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::jsonb, $${b + 5}::jsonb)`;
      });
      await client.query(`INSERT INTO etl_snapshot_chunks (table_key, generation, chunk_no, lo, hi) VALUES ${tuples.join(', ')}`, values);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function listChunks(meta: Pool, key: string, generation: number): Promise<Chunk[]> {
  const { rows } = await meta.query(
    `SELECT chunk_no, lo, hi, status, rows FROM etl_snapshot_chunks WHERE table_key = $1 AND generation = $2 ORDER BY chunk_no`,
    [key, generation],
  );
  return rows.map((r: Row) => ({
    chunkNo: Number(r.chunk_no),
    lo: (r.lo as string[] | null) ?? null,
    hi: (r.hi as string[] | null) ?? null,
    status: r.status as 'pending' | 'done',
    rows: num(r.rows),
  }));
}

/** Marks one chunk landed. Called only after every block of the chunk is confirmed by ClickHouse. */
export async function completeChunk(meta: Pool, key: string, generation: number, chunkNo: number, rows: number): Promise<void> {
  const client = await meta.connect();
  try {
    await client.query('BEGIN');
    const done = await client.query(
      `UPDATE etl_snapshot_chunks SET status = 'done', rows = $4, done_at = now()
        WHERE table_key = $1 AND generation = $2 AND chunk_no = $3 AND status = 'pending'`,
      [key, generation, chunkNo, rows],
    );
    if (done.rowCount !== 1) throw conflict(key, `chunk ${chunkNo} already done or gone`);
    const upd = await client.query(
      `UPDATE etl_tables SET snapshot_rows = snapshot_rows + $3, rows_synced = rows_synced + $3, updated_at = now()
        WHERE table_key = $1 AND generation = $2 AND phase = 'snapshot'`,
      [key, generation, rows],
    );
    if (upd.rowCount !== 1) throw conflict(key, 'snapshot progress');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Ends the snapshot: the table continues incrementally from `cursor` (cursor mode) or the CDC stream. */
export async function finishSnapshot(
  meta: Pool,
  key: string,
  generation: number,
  next: { cursorValue: string | null; cursorKey: string[] | null; watermark: string | null; lagSeconds: number | null },
): Promise<void> {
  const upd = await meta.query(
    `UPDATE etl_tables SET phase = 'incremental', snapshot_finished_at = now(), cursor_value = $3, cursor_key = $4::jsonb,
            watermark = $5, lag_seconds = $6, last_success_at = now(), last_error = NULL, consecutive_failures = 0, updated_at = now()
      WHERE table_key = $1 AND generation = $2 AND phase = 'snapshot'`,
    [key, generation, next.cursorValue, next.cursorKey === null ? null : JSON.stringify(next.cursorKey), next.watermark, next.lagSeconds],
  );
  if (upd.rowCount !== 1) throw conflict(key, 'snapshot finish');
  await meta.query(`DELETE FROM etl_snapshot_chunks WHERE table_key = $1 AND generation = $2`, [key, generation]);
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
  const upd = await meta.query(
    `UPDATE etl_tables SET cursor_value = $5, cursor_key = $6::jsonb, rows_synced = rows_synced + $7, updated_at = now()
      WHERE table_key = $1 AND generation = $2 AND phase = 'incremental'
        AND cursor_value IS NOT DISTINCT FROM $3 AND cursor_key IS NOT DISTINCT FROM $4::jsonb`,
    [key, generation, from.value, from.key === null ? null : JSON.stringify(from.key), to.value, to.key === null ? null : JSON.stringify(to.key), rows],
  );
  if (upd.rowCount !== 1) throw conflict(key, 'cursor advance');
}

/** Adds landed rows (CDC batches, reconciliation repairs, full-mode reloads) to the table's counters. */
export async function addRows(meta: Pool | PoolClient, key: string, rows: number): Promise<void> {
  if (rows <= 0) return;
  await meta.query(`UPDATE etl_tables SET rows_synced = rows_synced + $2, updated_at = now() WHERE table_key = $1`, [key, rows]);
}

/** A run succeeded: every change before `watermark` (source clock) is landed. */
export async function recordSuccess(meta: Pool | PoolClient, key: string, generation: number, info: { watermark: string | null; lagSeconds: number | null }): Promise<void> {
  await meta.query(
    `UPDATE etl_tables SET last_run_at = now(), last_success_at = now(), last_error = NULL, consecutive_failures = 0,
            watermark = COALESCE($3, watermark), lag_seconds = $4, updated_at = now()
      WHERE table_key = $1 AND generation = $2`,
    [key, generation, info.watermark, info.lagSeconds],
  );
}

export async function recordFailure(meta: Pool, key: string, message: string): Promise<void> {
  await meta.query(
    `UPDATE etl_tables SET last_run_at = now(), last_error = $2, last_error_at = now(), consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE table_key = $1`,
    [key, message.slice(0, 4000)],
  );
}

/** Stops syncing the table until its config changes (configHash) or it is resynced. */
export async function quarantine(meta: Pool, key: string, reason: string, configHash: string): Promise<void> {
  await meta.query(
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
  await meta.query(
    `UPDATE etl_tables SET generation = generation + 1, phase = 'pending', mode = $2, quarantine_reason = NULL, quarantined_at = NULL,
            config_hash = NULL, cursor_value = NULL, cursor_key = NULL, snapshot_version = NULL, snapshot_horizon = NULL,
            resnapshot_reason = $3, updated_at = now()
      WHERE table_key = $1`,
    [key, mode, reason],
  );
  await meta.query(`DELETE FROM etl_snapshot_chunks WHERE table_key = $1`, [key]);
}

/** Records new columns as landed (after ADD COLUMN / MODIFY COLUMN in ClickHouse). */
export async function setColumns(meta: Pool, key: string, columns: LandedColumn[]): Promise<void> {
  await meta.query(`UPDATE etl_tables SET columns = $2, updated_at = now() WHERE table_key = $1`, [key, JSON.stringify(columns)]);
}

export interface ReconcileRecord {
  sourceRows: number;
  targetRows: number;
  missing: number;
  extra: number;
  repaired: number;
  ok: boolean;
}

export async function recordReconcile(meta: Pool, key: string, r: ReconcileRecord): Promise<void> {
  await meta.query(
    `UPDATE etl_tables SET recon_at = now(), recon_source_rows = $2, recon_target_rows = $3, recon_missing = $4, recon_extra = $5,
            recon_repaired = $6, recon_ok = $7, updated_at = now()
      WHERE table_key = $1`,
    [key, r.sourceRows, r.targetRows, r.missing, r.extra, r.repaired, r.ok],
  );
}

/** Run history: one row per run, so "rows synced" over time and failures are visible. */
export async function startRun(meta: Pool, key: string, kind: string): Promise<number> {
  const { rows } = await meta.query(`INSERT INTO etl_runs (table_key, kind, started_at, status) VALUES ($1, $2, now(), 'running') RETURNING id`, [key, kind]);
  return Number((rows[0] as Row).id);
}

export async function finishRun(meta: Pool, id: number, status: 'ok' | 'failed' | 'skipped', rows: number, error?: string): Promise<void> {
  await meta.query(`UPDATE etl_runs SET finished_at = now(), status = $2, rows = $3, error = $4 WHERE id = $1`, [id, status, rows, error?.slice(0, 4000) ?? null]);
}

/** Keeps the run history bounded (the newest `keep` runs per table). */
export async function pruneRuns(meta: Pool, keep = 200): Promise<void> {
  await meta.query(
    `DELETE FROM etl_runs r USING (
       SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY table_key ORDER BY started_at DESC, id DESC) AS n FROM etl_runs) x WHERE n > $1
     ) old WHERE r.id = old.id`,
    [keep],
  );
}

export interface SourceState {
  source: string;
  slotName: string;
  publication: string;
  confirmedLsn: string | null;
  slotStatus: 'new' | 'active' | 'lost' | 'error';
  slotLagBytes: number | null;
  slotLostAt: Date | null;
  lastCommitAt: Date | null;
  lastError: string | null;
  updatedAt: Date;
}

function toSource(r: Row): SourceState {
  return {
    source: r.source as string,
    slotName: r.slot_name as string,
    publication: r.publication as string,
    confirmedLsn: (r.confirmed_lsn as string | null) ?? null,
    slotStatus: r.slot_status as SourceState['slotStatus'],
    slotLagBytes: num(r.slot_lag_bytes),
    slotLostAt: (r.slot_lost_at as Date | null) ?? null,
    lastCommitAt: (r.last_commit_at as Date | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    updatedAt: r.updated_at as Date,
  };
}

export async function ensureSourceState(meta: Pool, source: string, slot: string, publication: string): Promise<SourceState> {
  await meta.query(
    `INSERT INTO etl_sources (source, slot_name, publication) VALUES ($1, $2, $3)
     ON CONFLICT (source) DO UPDATE SET publication = EXCLUDED.publication`,
    [source, slot, publication],
  );
  return (await getSourceState(meta, source)) as SourceState;
}

export async function getSourceState(meta: Pool, source: string): Promise<SourceState | undefined> {
  const { rows } = await meta.query(`SELECT * FROM etl_sources WHERE source = $1`, [source]);
  return rows[0] ? toSource(rows[0] as Row) : undefined;
}

export async function listSourceStates(meta: Pool): Promise<SourceState[]> {
  const { rows } = await meta.query(`SELECT * FROM etl_sources ORDER BY source`);
  return rows.map((r) => toSource(r as Row));
}

/** The CDC checkpoint: every change up to `lsn` is landed. Written only after the batch's inserts are confirmed. */
export async function advanceSourceLsn(meta: Pool, source: string, lsn: string, lastCommitAt: Date | null): Promise<void> {
  await meta.query(
    `UPDATE etl_sources SET confirmed_lsn = $2, slot_status = 'active', last_commit_at = COALESCE($3, last_commit_at), last_error = NULL, updated_at = now()
      WHERE source = $1`,
    [source, lsn, lastCommitAt],
  );
}

export async function updateSource(
  meta: Pool,
  source: string,
  patch: { slotStatus?: SourceState['slotStatus']; slotLagBytes?: number | null; lost?: boolean; lastError?: string | null; confirmedLsn?: string | null; slotName?: string },
): Promise<void> {
  await meta.query(
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
