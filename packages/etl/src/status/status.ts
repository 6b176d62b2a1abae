/**
 * Sync status: readable by the query API (getSyncStatus over the metadata
 * Postgres), exported as Prometheus gauges, and mirrored into ClickHouse
 * (etl_sync_status_v1, clickhouse/0200_etl_status.sql) where the alert rules
 * read it.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { gauge, pgRows, type ClickHouse, type Registry } from '@tidemark/core';
import { sourceRow, tableRow, toSourceState, toTableState, type SourceState, type TableState } from '../checkpoint/rows';
import { quarantineSummary } from '../sync/quarantine';
import { contentStatus, type ContentStatus } from '../sync/content';

export type TableSyncState = 'ok' | 'pending' | 'snapshot' | 'error' | 'quarantined' | 'stalled';

export interface ReconciliationStatus {
  at: string;
  sourceRows: number | null;
  targetRows: number | null;
  missing: number | null;
  extra: number | null;
  repaired: number | null;
  ok: boolean | null;
}

export interface TableSyncStatus {
  table: string;
  source: string;
  /** Project the rows belong to (their project_id in ClickHouse). */
  project: string;
  schema: string;
  name: string;
  /** ClickHouse reader view (the table is <target>_v1). */
  target: string;
  mode: 'cursor' | 'cdc' | 'full';
  phase: 'pending' | 'snapshot' | 'incremental' | 'quarantined';
  state: TableSyncState;
  generation: number;
  rowsSynced: number;
  snapshotRows: number;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  /**
   * True lag: age of the watermark (now − the instant before which every
   * source commit is queryable in ClickHouse), computed when the status is
   * read. A halted, failing or stalled table shows it growing at once; a
   * quiet table shows at most its schedule interval plus one run. Null until
   * the first snapshot finished.
   */
  lagSeconds: number | null;
  /** Commit-to-queryable lag measured by the last successful run (what lagSeconds was before). */
  lastRunLagSeconds: number | null;
  /** Rows kept out of ClickHouse because a value cannot land (sync/quarantine.ts), and the oldest one's first sighting. */
  quarantinedRows: number;
  quarantinedSince: string | null;
  /** Every source commit before this instant was landed. */
  watermark: string | null;
  stallAfterSeconds: number;
  stalled: boolean;
  lastError: string | null;
  consecutiveFailures: number;
  quarantineReason: string | null;
  reconciliation: ReconciliationStatus | null;
  /** Last content reconciliation (sync/content.ts): rows found different and repaired. */
  content: ContentStatus | null;
}

export interface SourceSyncStatus {
  source: string;
  slot: string;
  publication: string;
  slotStatus: 'new' | 'active' | 'lost' | 'error';
  slotLagBytes: number | null;
  confirmedLsn: string | null;
  lastCommitAt: string | null;
  slotLostAt: string | null;
  lastError: string | null;
}

export interface SyncStatus {
  generatedAt: string;
  tables: TableSyncStatus[];
  /** CDC sources (slots). */
  sources: SourceSyncStatus[];
}

const iso = (v: Date | null): string | null => (v === null ? null : v.toISOString());

/** etl_tables rows (the checkpoint store's schema) with the lag and the stall computed by the database's clock. */
// stalled is NULL (not stalled) when a comparison in it meets a NULL watermark.
const statusTableRow = tableRow.extend({ watermark_age: z.number().nullable(), stalled: z.boolean().nullable() });

const tablesQuery = {
  name: 'etl.status_tables',
  sql: `
    SELECT t.*,
           CASE WHEN t.phase IN ('incremental', 'quarantined') AND t.watermark ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}'
                THEN greatest(0, extract(epoch FROM now() - t.watermark::timestamptz))::float8 END AS watermark_age,
           CASE WHEN t.phase = 'incremental' THEN now() - coalesce(t.last_success_at, t.updated_at) > t.stall_after_seconds * interval '1 second'
                                                 OR coalesce(t.lag_seconds, 0) > t.stall_after_seconds
                                                 OR (t.watermark ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}'
                                                     AND now() - t.watermark::timestamptz > t.stall_after_seconds * interval '1 second')
                WHEN t.phase IN ('snapshot', 'pending') THEN now() - t.updated_at > t.stall_after_seconds * interval '1 second'
                ELSE false END AS stalled
      FROM etl_tables t WHERE ($1::text IS NULL OR t.project = $1) ORDER BY t.table_key`,
  row: statusTableRow,
};

const sourcesQuery = {
  name: 'etl.status_sources',
  sql: `SELECT * FROM etl_sources s
         WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM etl_tables t WHERE t.source = s.source AND t.project = $1)
         ORDER BY source`,
  row: sourceRow,
};

function tableStatus(
  t: TableState,
  extra: { watermarkAge: number | null; stalled: boolean; held: { rows: number; oldest: Date } | undefined; content: ContentStatus | undefined },
): TableSyncStatus {
  const { stalled } = extra;
  const failures = t.consecutiveFailures;
  const state: TableSyncState =
    t.phase === 'quarantined'
      ? 'quarantined'
      : stalled
        ? 'stalled'
        : failures > 0
          ? 'error'
          : t.phase === 'incremental'
            ? 'ok'
            : t.phase === 'snapshot'
              ? 'snapshot'
              : 'pending';
  return {
    table: t.tableKey,
    source: t.source,
    project: t.project,
    schema: t.sourceSchema,
    name: t.sourceTable,
    target: t.targetTable,
    mode: t.mode,
    phase: t.phase,
    state,
    generation: t.generation,
    rowsSynced: t.rowsSynced,
    snapshotRows: t.snapshotRows,
    lastRunAt: iso(t.lastRunAt),
    lastSuccessAt: iso(t.lastSuccessAt),
    lagSeconds: extra.watermarkAge,
    lastRunLagSeconds: t.lagSeconds,
    quarantinedRows: extra.held?.rows ?? 0,
    quarantinedSince: extra.held ? extra.held.oldest.toISOString() : null,
    watermark: t.watermark,
    stallAfterSeconds: t.stallAfterSeconds,
    stalled,
    lastError: t.lastError,
    consecutiveFailures: failures,
    quarantineReason: t.quarantineReason,
    content: extra.content ?? null,
    reconciliation:
      t.reconAt === null
        ? null
        : {
            at: t.reconAt.toISOString(),
            sourceRows: t.reconSourceRows,
            targetRows: t.reconTargetRows,
            missing: t.reconMissing,
            extra: t.reconExtra,
            repaired: t.reconRepaired,
            ok: t.reconOk,
          },
  };
}

function sourceStatus(s: SourceState): SourceSyncStatus {
  return {
    source: s.source,
    slot: s.slotName,
    publication: s.publication,
    slotStatus: s.slotStatus,
    slotLagBytes: s.slotLagBytes,
    confirmedLsn: s.confirmedLsn,
    lastCommitAt: iso(s.lastCommitAt),
    slotLostAt: iso(s.slotLostAt),
    lastError: s.lastError,
  };
}

/**
 * Status of every synced table and CDC source. `stalled`: an incremental
 * table whose last success is older than its stall threshold, or whose data
 * lags by more than that (runs succeed but cannot advance, e.g. behind a
 * transaction left open on the source), or a snapshot that has not landed a
 * chunk for that long (a long snapshot that progresses is not stalled).
 * `project` narrows it to one project's tables and their sources.
 */
export async function getSyncStatus(meta: Pool, opts: { project?: string } = {}): Promise<SyncStatus> {
  // With a project (the query API's caller): only its tables, and only the CDC sources feeding them.
  const project = opts.project ?? null;
  const rows = await pgRows(meta, tablesQuery, [project]);
  const held = await quarantineSummary(meta);
  const contents = await contentStatus(meta);
  const tables = rows.map((r) =>
    tableStatus(toTableState(r), {
      watermarkAge: r.watermark_age,
      stalled: r.stalled === true,
      held: held.get(r.table_key),
      content: contents.get(r.table_key),
    }),
  );
  const sources = (await pgRows(meta, sourcesQuery, [project])).map((r) => sourceStatus(toSourceState(r)));
  return { generatedAt: new Date().toISOString(), tables, sources };
}

/** ClickHouse DateTime64(3) text from an ISO timestamp. */
function chTime(v: string | null): string | null {
  return v === null ? null : v.replace('T', ' ').replace('Z', '');
}

const statusRow = z.object({
  table_key: z.string(),
  project_id: z.string(),
  source: z.string(),
  target_table: z.string(),
  mode: z.string(),
  phase: z.string(),
  state: z.string(),
  last_success_at: z.string().nullable(),
  last_error: z.string(),
  consecutive_failures: z.number().int().nonnegative(),
  lag_seconds: z.number().nullable(),
  rows_synced: z.number().int().nonnegative(),
  stall_after_seconds: z.number().int().nonnegative(),
  recon_at: z.string().nullable(),
  recon_source_rows: z.number().nullable(),
  recon_target_rows: z.number().nullable(),
  recon_missing: z.number().nullable(),
  recon_extra: z.number().nullable(),
  recon_repaired: z.number().nullable(),
  content_at: z.string().nullable(),
  content_changed: z.number().int().nonnegative().nullable(),
  content_repaired: z.number().int().nonnegative().nullable(),
  content_remaining: z.number().int().nonnegative().nullable(),
  content_changed_total: z.number().int().nonnegative(),
  content_repaired_total: z.number().int().nonnegative(),
  quarantined_rows: z.number().int().nonnegative(),
  quarantined_since: z.string().nullable(),
  slot_lag_bytes: z.number().nullable(),
  updated_at: z.string(),
});

/**
 * Writes one status row per table into etl_sync_status_v1 (the alert rules'
 * input, clickhouse/0200 and 0201). Each row carries its table's project, so
 * a rule (tenant read path: project_id-filtered) sees its own project's
 * tables, and the divergence figures: what the last key and content
 * reconciliation found and repaired, and the rows held in quarantine.
 */
export async function publishStatusToClickHouse(ch: ClickHouse, status: SyncStatus): Promise<void> {
  if (status.tables.length === 0) return;
  const insert = ch.insert({ table: 'etl_sync_status_v1', row: statusRow });
  const lagBySource = new Map(status.sources.map((s) => [s.source, s.slotLagBytes]));
  const now = chTime(status.generatedAt) as string;
  await insert(
    status.tables.map((t) => ({
      table_key: t.table,
      project_id: t.project,
      source: t.source,
      target_table: t.target,
      mode: t.mode,
      phase: t.phase,
      state: t.state,
      last_success_at: chTime(t.lastSuccessAt),
      last_error: t.lastError ?? '',
      consecutive_failures: t.consecutiveFailures,
      lag_seconds: t.lagSeconds,
      rows_synced: t.rowsSynced,
      stall_after_seconds: t.stallAfterSeconds,
      recon_at: chTime(t.reconciliation?.at ?? null),
      recon_source_rows: t.reconciliation?.sourceRows ?? null,
      recon_target_rows: t.reconciliation?.targetRows ?? null,
      recon_missing: t.reconciliation?.missing ?? null,
      recon_extra: t.reconciliation?.extra ?? null,
      recon_repaired: t.reconciliation?.repaired ?? null,
      content_at: chTime(t.content?.at ?? null),
      content_changed: t.content?.changed ?? null,
      content_repaired: t.content?.repaired ?? null,
      content_remaining: t.content?.remaining ?? null,
      content_changed_total: t.content?.changedTotal ?? 0,
      content_repaired_total: t.content?.repairedTotal ?? 0,
      quarantined_rows: t.quarantinedRows,
      quarantined_since: chTime(t.quarantinedSince),
      slot_lag_bytes: t.mode === 'cdc' ? (lagBySource.get(t.source) ?? null) : null,
      updated_at: now,
    })),
  );
}

/** Sets the ETL's Prometheus gauges from a status snapshot. */
export function exportMetrics(registry: Registry, status: SyncStatus): void {
  const lag = gauge(
    registry,
    'tidemark_etl_lag_seconds',
    'Age of the table watermark: every source commit older than this is queryable in ClickHouse (grows while the table is halted)',
    ['table'],
  );
  const contentChanged = gauge(
    registry,
    'tidemark_etl_reconcile_content_changed_total',
    'Rows found with different content in ClickHouse by content reconciliation, since first reconciled',
    ['table'],
  );
  const contentRepaired = gauge(registry, 'tidemark_etl_reconcile_content_repaired_total', 'Rows re-landed by content reconciliation, since first reconciled', [
    'table',
  ]);
  const contentRemaining = gauge(
    registry,
    'tidemark_etl_reconcile_content_remaining',
    'Rows known to differ and not repaired yet (over maxRepair) at the last content reconciliation',
    ['table'],
  );
  const heldRows = gauge(
    registry,
    'tidemark_etl_quarantined_rows',
    'Rows kept out of ClickHouse because a value cannot land (key and reason in etl_row_quarantine)',
    ['table'],
  );
  const lastSuccess = gauge(registry, 'tidemark_etl_last_success_timestamp_seconds', 'Unix time of the last successful sync of the table', ['table']);
  const rows = gauge(registry, 'tidemark_etl_rows_synced', 'Rows landed in ClickHouse for the table since it was first synced', ['table']);
  const stalled = gauge(registry, 'tidemark_etl_stalled', '1 when the table has not synced within its stall threshold', ['table']);
  const quarantined = gauge(registry, 'tidemark_etl_quarantined', '1 when the table is quarantined (incompatible schema change)', ['table']);
  const failures = gauge(registry, 'tidemark_etl_consecutive_failures', 'Failed runs of the table since its last success', ['table']);
  const missing = gauge(registry, 'tidemark_etl_reconcile_missing', 'Keys in the source missing from ClickHouse at the last reconciliation', ['table']);
  const extra = gauge(registry, 'tidemark_etl_reconcile_extra', 'Keys in ClickHouse deleted in the source at the last reconciliation', ['table']);
  const repaired = gauge(registry, 'tidemark_etl_reconcile_repaired', 'Rows re-landed or tombstoned by the last reconciliation (keys and content)', ['table']);
  const contentChangedLast = gauge(
    registry,
    'tidemark_etl_reconcile_content_changed',
    'Rows found with different content in ClickHouse at the last content reconciliation',
    ['table'],
  );
  const reconOk = gauge(registry, 'tidemark_etl_reconcile_ok', '1 when the last reconciliation left source and target with the same keys', ['table']);
  const slotLag = gauge(registry, 'tidemark_etl_slot_lag_bytes', 'WAL bytes the CDC replication slot retains', ['source']);
  for (const t of status.tables) {
    const l = { table: t.table };
    if (t.lagSeconds !== null) lag.set(l, t.lagSeconds);
    if (t.lastSuccessAt) lastSuccess.set(l, Date.parse(t.lastSuccessAt) / 1000);
    rows.set(l, t.rowsSynced);
    heldRows.set(l, t.quarantinedRows);
    if (t.content) {
      contentChanged.set(l, t.content.changedTotal);
      contentRepaired.set(l, t.content.repairedTotal);
      contentRemaining.set(l, t.content.remaining);
      contentChangedLast.set(l, t.content.changed);
    }
    stalled.set(l, t.stalled ? 1 : 0);
    quarantined.set(l, t.phase === 'quarantined' ? 1 : 0);
    failures.set(l, t.consecutiveFailures);
    if (t.reconciliation) {
      missing.set(l, t.reconciliation.missing ?? 0);
      extra.set(l, t.reconciliation.extra ?? 0);
      repaired.set(l, t.reconciliation.repaired ?? 0);
      reconOk.set(l, t.reconciliation.ok ? 1 : 0);
    }
  }
  for (const s of status.sources) if (s.slotLagBytes !== null) slotLag.set({ source: s.source }, s.slotLagBytes);
}

/**
 * Alert rules over etl_sync_status (for the alerting engine's rule set).
 * Each query returns one row per firing table. The stall rule compares with
 * now(), so it also fires when the etl role is down and writes nothing.
 */
export const ETL_ALERT_RULES = [
  {
    name: 'etl_sync_stalled',
    severity: 'critical',
    description: 'A synced business table has not synced within its stall threshold (or is failing / quarantined).',
    sql: `SELECT table_key, state, last_success_at, lag_seconds, last_error
FROM etl_sync_status
WHERE state IN ('stalled', 'quarantined')
   OR (phase = 'incremental' AND (last_success_at IS NULL OR last_success_at < now64(3) - toIntervalSecond(stall_after_seconds)
                                  OR lag_seconds > stall_after_seconds))`,
  },
  {
    name: 'etl_sync_failing',
    severity: 'warning',
    description: 'A synced business table failed its last runs (e.g. a numeric value that does not fit its Decimal).',
    sql: `SELECT table_key, consecutive_failures, last_error FROM etl_sync_status WHERE consecutive_failures >= 3`,
  },
  {
    name: 'etl_reconciliation_mismatch',
    severity: 'warning',
    description: 'The last reconciliation found keys missing or extra in ClickHouse.',
    sql: `SELECT table_key, recon_missing, recon_extra, recon_at FROM etl_sync_status WHERE recon_missing > 0 OR recon_extra > 0`,
  },
  {
    name: 'etl_cdc_slot_lag',
    severity: 'warning',
    description: 'A CDC replication slot retains more than 1 GiB of WAL (the source disk fills if it keeps growing).',
    sql: `SELECT source, max(slot_lag_bytes) AS slot_lag_bytes FROM etl_sync_status WHERE mode = 'cdc' GROUP BY source HAVING slot_lag_bytes > 1073741824`,
  },
] as const;
