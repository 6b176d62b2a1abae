/**
 * Row schemas of the ETL's metadata tables (etl_tables, etl_sources,
 * etl_snapshot_chunks; packages/etl/sql/postgres/0200_etl.sql, 0201) and the
 * one mapper of each to its state object. The checkpoint store and the status
 * read the same rows through these, so a column renamed in a migration fails
 * with the query's name in both places instead of flowing on as undefined.
 *
 * node-postgres types: bigint arrives as text (counters are coerced to
 * numbers: they stay far below 2^53), numeric as text (snapshot_version is
 * kept as text, it is an xmax or an LSN), timestamptz as Date, jsonb parsed.
 */
import { z } from 'zod';

/** A column as landed in ClickHouse (the baseline schema evolution compares with). */
export interface LandedColumn {
  name: string;
  /** Source type (format_type), for messages. */
  sourceType: string;
  chType: string;
}

export const PHASES = ['pending', 'snapshot', 'incremental', 'quarantined'] as const;
export type Phase = (typeof PHASES)[number];

const count = z.coerce.number();
const maybeCount = z.coerce.number().nullable();
const maybeDate = z.date().nullable();
// Loose: a landed column written by a newer version keeps its other fields.
const landedColumn = z.looseObject({ name: z.string(), sourceType: z.string(), chType: z.string() });

/** One etl_tables row (SELECT *). */
export const tableRow = z.object({
  table_key: z.string(),
  source: z.string(),
  project: z.string().optional(),
  source_schema: z.string(),
  source_table: z.string(),
  target_table: z.string(),
  mode: z.enum(['cursor', 'cdc', 'full']),
  generation: count,
  phase: z.enum(PHASES),
  columns: z.array(landedColumn).nullable(),
  config_hash: z.string().nullable(),
  snapshot_version: z.string().nullable(),
  snapshot_horizon: z.string().nullable(),
  snapshot_rows: count,
  snapshot_started_at: maybeDate,
  snapshot_finished_at: maybeDate,
  cursor_value: z.string().nullable(),
  cursor_key: z.array(z.string()).nullable(),
  watermark: z.string().nullable(),
  lag_seconds: maybeCount,
  rows_synced: count,
  last_run_at: maybeDate,
  last_success_at: maybeDate,
  last_error: z.string().nullable(),
  last_error_at: maybeDate,
  consecutive_failures: count,
  quarantine_reason: z.string().nullable(),
  quarantined_at: maybeDate,
  resnapshot_reason: z.string().nullable(),
  recon_at: maybeDate,
  recon_source_rows: maybeCount,
  recon_target_rows: maybeCount,
  recon_missing: maybeCount,
  recon_extra: maybeCount,
  recon_repaired: maybeCount,
  recon_ok: z.boolean().nullable(),
  stall_after_seconds: count,
  updated_at: z.date(),
});
export type TableRow = z.output<typeof tableRow>;

export interface TableState {
  tableKey: string;
  source: string;
  project: string;
  sourceSchema: string;
  sourceTable: string;
  targetTable: string;
  mode: TableRow['mode'];
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

export function toTableState(r: TableRow): TableState {
  return {
    tableKey: r.table_key,
    source: r.source,
    project: r.project ?? 'default',
    sourceSchema: r.source_schema,
    sourceTable: r.source_table,
    targetTable: r.target_table,
    mode: r.mode,
    generation: r.generation,
    phase: r.phase,
    columns: r.columns,
    configHash: r.config_hash,
    snapshotVersion: r.snapshot_version,
    snapshotHorizon: r.snapshot_horizon,
    snapshotRows: r.snapshot_rows,
    snapshotStartedAt: r.snapshot_started_at,
    snapshotFinishedAt: r.snapshot_finished_at,
    cursorValue: r.cursor_value,
    cursorKey: r.cursor_key,
    watermark: r.watermark,
    lagSeconds: r.lag_seconds,
    rowsSynced: r.rows_synced,
    lastRunAt: r.last_run_at,
    lastSuccessAt: r.last_success_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    consecutiveFailures: r.consecutive_failures,
    quarantineReason: r.quarantine_reason,
    quarantinedAt: r.quarantined_at,
    resnapshotReason: r.resnapshot_reason,
    reconAt: r.recon_at,
    reconSourceRows: r.recon_source_rows,
    reconTargetRows: r.recon_target_rows,
    reconMissing: r.recon_missing,
    reconExtra: r.recon_extra,
    reconRepaired: r.recon_repaired,
    reconOk: r.recon_ok,
    stallAfterSeconds: r.stall_after_seconds,
    updatedAt: r.updated_at,
  };
}

/** One etl_sources row (SELECT *). */
export const sourceRow = z.object({
  source: z.string(),
  slot_name: z.string(),
  publication: z.string(),
  confirmed_lsn: z.string().nullable(),
  slot_status: z.enum(['new', 'active', 'lost', 'error']),
  slot_lag_bytes: maybeCount,
  slot_lost_at: maybeDate,
  last_commit_at: maybeDate,
  last_error: z.string().nullable(),
  updated_at: z.date(),
});
export type SourceRow = z.output<typeof sourceRow>;

export interface SourceState {
  source: string;
  slotName: string;
  publication: string;
  confirmedLsn: string | null;
  slotStatus: SourceRow['slot_status'];
  slotLagBytes: number | null;
  slotLostAt: Date | null;
  lastCommitAt: Date | null;
  lastError: string | null;
  updatedAt: Date;
}

export function toSourceState(r: SourceRow): SourceState {
  return {
    source: r.source,
    slotName: r.slot_name,
    publication: r.publication,
    confirmedLsn: r.confirmed_lsn,
    slotStatus: r.slot_status,
    slotLagBytes: r.slot_lag_bytes,
    slotLostAt: r.slot_lost_at,
    lastCommitAt: r.last_commit_at,
    lastError: r.last_error,
    updatedAt: r.updated_at,
  };
}

/** One etl_snapshot_chunks row (the columns listChunks reads). */
export const chunkRow = z.object({
  chunk_no: count,
  lo: z.array(z.string()).nullable(),
  hi: z.array(z.string()).nullable(),
  status: z.enum(['pending', 'done']),
  rows: maybeCount,
});
