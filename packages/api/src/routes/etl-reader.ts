/**
 * The query API's narrow reader of the ETL's metadata (issue 17): the API
 * reads the tables the etl role writes in the metadata Postgres (etl_tables,
 * etl_sources, etl_reconcile_content, etl_row_quarantine) through these typed
 * queries and does not import the etl role's package. Every read is scoped
 * to one project (etl_tables.project, the project_id the table's rows carry
 * in ClickHouse).
 *
 * The contract with the writer is the tables' columns (migrations 0200/0201
 * in packages/etl/sql/postgres, and the two tables the etl role creates
 * itself, IF NOT EXISTS, when it first needs them: a reader never creates
 * them, a missing one means nothing was recorded yet). Rows are parsed with
 * zod, so a column the writer renamed fails loudly here instead of reading
 * as null. The state rule and the stall SQL are the etl role's own
 * (@tidemark/etl/status-state), so the API and the etl role's gauges agree.
 */
import { pgOne, pgRows, type Queryable } from '@tidemark/core';
// The etl role's state rule, its phases and states, and the stall SQL, one copy for both: a dependency-free
// module the etl package exports alone (packages/etl/src/status/state.ts), so
// this loads none of the etl role's code (eslint.config.mjs allows this subpath only).
import { STALLED_SQL, TABLE_SYNC_PHASES, TABLE_SYNC_STATES, tableSyncState, WATERMARK_AGE_SQL } from '@tidemark/etl/status-state';
import { z } from 'zod';

const ts = z.date().nullable();
const num = z.coerce.number();
const numOrNull = z.coerce.number().nullable();

/** One etl_tables row as this reader selects it, with the stall and watermark age computed by Postgres. */
const tableRow = z.object({
  table_key: z.string(),
  source: z.string(),
  project: z.string(),
  source_schema: z.string(),
  source_table: z.string(),
  target_table: z.string(),
  mode: z.enum(['cursor', 'cdc', 'full']),
  phase: z.enum(TABLE_SYNC_PHASES),
  generation: num,
  rows_synced: num,
  snapshot_rows: num,
  last_run_at: ts,
  last_success_at: ts,
  lag_seconds: numOrNull,
  watermark: z.string().nullable(),
  watermark_age: numOrNull,
  stall_after_seconds: num,
  stalled: z.boolean(),
  last_error: z.string().nullable(),
  consecutive_failures: num,
  quarantine_reason: z.string().nullable(),
  recon_at: ts,
  recon_source_rows: numOrNull,
  recon_target_rows: numOrNull,
  recon_missing: numOrNull,
  recon_extra: numOrNull,
  recon_repaired: numOrNull,
  recon_ok: z.boolean().nullable(),
});

const sourceRow = z.object({
  source: z.string(),
  slot_name: z.string(),
  publication: z.string(),
  slot_status: z.enum(['new', 'active', 'lost', 'error']),
  slot_lag_bytes: numOrNull,
  confirmed_lsn: z.string().nullable(),
  last_commit_at: ts,
  slot_lost_at: ts,
  last_error: z.string().nullable(),
});

const contentRow = z.object({
  table_key: z.string(),
  at: z.date(),
  rows_compared: num,
  differing_ranges: num,
  changed: num,
  repaired: num,
  remaining: num,
  seconds: num,
  skipped: z.string().nullable(),
  changed_total: num,
  repaired_total: num,
});

const heldRow = z.object({ table_key: z.string(), n: num, oldest: z.date() });

const quarantineRow = z.object({
  table_key: z.string(),
  target_table: z.string(),
  key_values: z.array(z.string()),
  reason: z.string(),
  first_seen_at: z.date(),
  last_seen_at: z.date(),
  attempts: num,
});

const presentRow = z.object({ content: z.boolean(), quarantine: z.boolean() });

// Answers of the routes (documented in the OpenAPI document from these schemas).

export const reconciliationSchema = z.object({
  at: z.string(),
  sourceRows: z.number().nullable(),
  targetRows: z.number().nullable(),
  /** Keys the source had and ClickHouse lacked at the last reconciliation. */
  missing: z.number().nullable(),
  /** Keys ClickHouse had and the source did not. */
  extra: z.number().nullable(),
  /** Rows re-landed or tombstoned by it (keys and content). */
  repaired: z.number().nullable(),
  ok: z.boolean().nullable(),
});

export const contentStatusSchema = z.object({
  at: z.string(),
  rowsCompared: z.number(),
  differingRanges: z.number(),
  /** Rows whose content differed at the last content reconciliation. */
  changed: z.number(),
  repaired: z.number(),
  /** Differences left for the next run (over maxRepair). */
  remaining: z.number(),
  seconds: z.number(),
  skipped: z.string().nullable(),
  changedTotal: z.number(),
  repairedTotal: z.number(),
});

export const tableStatusSchema = z.object({
  table: z.string(),
  source: z.string(),
  project: z.string(),
  schema: z.string(),
  name: z.string(),
  target: z.string(),
  mode: z.enum(['cursor', 'cdc', 'full']),
  phase: z.enum(TABLE_SYNC_PHASES),
  state: z.enum(TABLE_SYNC_STATES),
  generation: z.number(),
  rowsSynced: z.number(),
  snapshotRows: z.number(),
  lastRunAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  lagSeconds: z.number().nullable(),
  lastRunLagSeconds: z.number().nullable(),
  quarantinedRows: z.number(),
  quarantinedSince: z.string().nullable(),
  watermark: z.string().nullable(),
  stallAfterSeconds: z.number(),
  stalled: z.boolean(),
  lastError: z.string().nullable(),
  consecutiveFailures: z.number(),
  quarantineReason: z.string().nullable(),
  reconciliation: reconciliationSchema.nullable(),
  content: contentStatusSchema.nullable(),
});

export const sourceStatusSchema = z.object({
  source: z.string(),
  slot: z.string(),
  publication: z.string(),
  slotStatus: z.enum(['new', 'active', 'lost', 'error']),
  slotLagBytes: z.number().nullable(),
  confirmedLsn: z.string().nullable(),
  lastCommitAt: z.string().nullable(),
  slotLostAt: z.string().nullable(),
  lastError: z.string().nullable(),
});

export const quarantinedRowSchema = z.object({
  /** Synced table (<source>.<schema>.<table>). */
  table: z.string(),
  /** ClickHouse reader view of the table. */
  target: z.string(),
  /** Primary-key values as Postgres text, in key order. */
  key: z.array(z.string()),
  /** The column whose value cannot land (from the reason; null when the reason names none). */
  column: z.string().nullable(),
  /** Key, column, its type and the value that cannot land. */
  reason: z.string(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  /** Reads that found the row unlandable. */
  attempts: z.number(),
});

export type TableStatus = z.infer<typeof tableStatusSchema>;
export type SourceStatus = z.infer<typeof sourceStatusSchema>;
export type QuarantinedRow = z.infer<typeof quarantinedRowSchema>;

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/**
 * The etl role writes reasons as "<table>: row (<key cols>) = (<values>):
 * column <name> (<source type>) holds a value ..." (target/types.ts); the
 * column is not stored on its own, so it is read back from there.
 */
export function reasonColumn(reason: string): string | null {
  return /\): column (.+?) \(.*\) holds a value/.exec(reason)?.[1] ?? null;
}

/** The answer of one synced table: its state, the quarantine `q` and the last content reconciliation `c`. */
function tableStatus(r: z.infer<typeof tableRow>, q: z.infer<typeof heldRow> | undefined, c: z.infer<typeof contentRow> | undefined): TableStatus {
  return {
    table: r.table_key,
    source: r.source,
    project: r.project,
    schema: r.source_schema,
    name: r.source_table,
    target: r.target_table,
    mode: r.mode,
    phase: r.phase,
    state: tableSyncState({ phase: r.phase, stalled: r.stalled, consecutiveFailures: r.consecutive_failures }),
    generation: r.generation,
    rowsSynced: r.rows_synced,
    snapshotRows: r.snapshot_rows,
    lastRunAt: iso(r.last_run_at),
    lastSuccessAt: iso(r.last_success_at),
    lagSeconds: r.watermark_age,
    lastRunLagSeconds: r.lag_seconds,
    quarantinedRows: q?.n ?? 0,
    quarantinedSince: q ? q.oldest.toISOString() : null,
    watermark: r.watermark,
    stallAfterSeconds: r.stall_after_seconds,
    stalled: r.stalled,
    lastError: r.last_error,
    consecutiveFailures: r.consecutive_failures,
    quarantineReason: r.quarantine_reason,
    reconciliation:
      r.recon_at === null
        ? null
        : {
            at: r.recon_at.toISOString(),
            sourceRows: r.recon_source_rows,
            targetRows: r.recon_target_rows,
            missing: r.recon_missing,
            extra: r.recon_extra,
            repaired: r.recon_repaired,
            ok: r.recon_ok,
          },
    content: c
      ? {
          at: c.at.toISOString(),
          rowsCompared: c.rows_compared,
          differingRanges: c.differing_ranges,
          changed: c.changed,
          repaired: c.repaired,
          remaining: c.remaining,
          seconds: c.seconds,
          skipped: c.skipped,
          changedTotal: c.changed_total,
          repairedTotal: c.repaired_total,
        }
      : null,
  };
}

export class EtlMetadataReader {
  constructor(private readonly meta: Queryable) {}

  /** Which of the tables the etl role creates lazily exist yet. */
  private async present(): Promise<z.infer<typeof presentRow>> {
    return pgOne(this.meta, {
      name: 'etl.tables_present',
      sql: `SELECT to_regclass('etl_reconcile_content') IS NOT NULL AS content, to_regclass('etl_row_quarantine') IS NOT NULL AS quarantine`,
      row: presentRow,
    });
  }

  /**
   * Sync status of a project's tables and of the CDC sources feeding them.
   * `stalled`: an incremental table whose last success is older than its
   * stall threshold or whose data lags by more, or a snapshot that has not
   * landed a chunk for that long (the etl role's rule, STALLED_SQL).
   */
  async syncStatus(project: string): Promise<{ generatedAt: string; tables: TableStatus[]; sources: SourceStatus[] }> {
    const present = await this.present();
    const tables = await pgRows(
      this.meta,
      {
        name: 'etl.tables',
        row: tableRow,
        sql: `SELECT t.table_key, t.source, t.project, t.source_schema, t.source_table, t.target_table, t.mode, t.phase, t.generation,
              t.rows_synced, t.snapshot_rows, t.last_run_at, t.last_success_at, t.lag_seconds, t.watermark, t.stall_after_seconds,
              t.last_error, t.consecutive_failures, t.quarantine_reason,
              t.recon_at, t.recon_source_rows, t.recon_target_rows, t.recon_missing, t.recon_extra, t.recon_repaired, t.recon_ok,
              ${WATERMARK_AGE_SQL} AS watermark_age, coalesce(${STALLED_SQL}, false) AS stalled
         FROM etl_tables t WHERE t.project = $1 ORDER BY t.table_key`,
      },
      [project],
    );
    const keys = tables.map((t) => t.table_key);
    const contents = new Map<string, z.infer<typeof contentRow>>();
    const held = new Map<string, z.infer<typeof heldRow>>();
    if (keys.length > 0 && present.content) {
      const c = await pgRows(
        this.meta,
        {
          name: 'etl.reconcile_content',
          row: contentRow,
          sql: `SELECT table_key, at, rows_compared, differing_ranges, changed, repaired, remaining, seconds, skipped, changed_total, repaired_total
           FROM etl_reconcile_content WHERE table_key = ANY($1::text[])`,
        },
        [keys],
      );
      for (const x of c) contents.set(x.table_key, x);
    }
    if (keys.length > 0 && present.quarantine) {
      const q = await pgRows(
        this.meta,
        {
          name: 'etl.quarantine_counts',
          sql: `SELECT table_key, count(*)::int8 AS n, min(first_seen_at) AS oldest FROM etl_row_quarantine WHERE table_key = ANY($1::text[]) GROUP BY table_key`,
          row: heldRow,
        },
        [keys],
      );
      for (const x of q) held.set(x.table_key, x);
    }
    const out = tables.map((r) => tableStatus(r, held.get(r.table_key), contents.get(r.table_key)));
    const src = await pgRows(
      this.meta,
      {
        name: 'etl.sources',
        row: sourceRow,
        sql: `SELECT s.source, s.slot_name, s.publication, s.slot_status, s.slot_lag_bytes, s.confirmed_lsn, s.last_commit_at, s.slot_lost_at, s.last_error
         FROM etl_sources s WHERE EXISTS (SELECT 1 FROM etl_tables t WHERE t.source = s.source AND t.project = $1) ORDER BY s.source`,
      },
      [project],
    );
    const sources = src.map((s) => {
      return {
        source: s.source,
        slot: s.slot_name,
        publication: s.publication,
        slotStatus: s.slot_status,
        slotLagBytes: s.slot_lag_bytes,
        confirmedLsn: s.confirmed_lsn,
        lastCommitAt: iso(s.last_commit_at),
        slotLostAt: iso(s.slot_lost_at),
        lastError: s.last_error,
      };
    });
    return { generatedAt: new Date().toISOString(), tables: out, sources };
  }

  /** A project's quarantined rows, most recently seen first; `table` narrows to one synced table. */
  async quarantinedRows(project: string, opts: { table?: string | undefined; limit: number }): Promise<QuarantinedRow[]> {
    if (!(await this.present()).quarantine) return [];
    const rows = await pgRows(
      this.meta,
      {
        name: 'etl.quarantined_rows',
        row: quarantineRow,
        sql: `SELECT q.table_key, t.target_table, q.key_values, q.reason, q.first_seen_at, q.last_seen_at, q.attempts
         FROM etl_row_quarantine q JOIN etl_tables t ON t.table_key = q.table_key
        WHERE t.project = $1 AND ($2::text IS NULL OR q.table_key = $2)
        ORDER BY q.last_seen_at DESC, q.table_key, q.row_key LIMIT $3`,
      },
      [project, opts.table ?? null, opts.limit],
    );
    return rows.map((q) => {
      return {
        table: q.table_key,
        target: q.target_table,
        key: q.key_values,
        column: reasonColumn(q.reason),
        reason: q.reason,
        firstSeenAt: q.first_seen_at.toISOString(),
        lastSeenAt: q.last_seen_at.toISOString(),
        attempts: q.attempts,
      };
    });
  }
}
