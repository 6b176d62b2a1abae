/**
 * Reads the sync status from the metadata Postgres (etl_tables,
 * etl_sources, the row quarantine and the content reconciliation records);
 * lag and stall are computed by the database's clock.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { pgRows } from '@tidemark/core';
import { sourceRow, tableRow, toSourceState, toTableState, type SourceState, type TableState } from '../checkpoint/rows';
import { quarantineSummary } from '../sync/quarantine';
import { contentStatus, type ContentStatus } from '../sync/content';
import type { SourceSyncStatus, SyncStatus, TableSyncStatus } from './types';
import { STALLED_SQL, tableSyncState, WATERMARK_AGE_SQL } from './state';

const iso = (v: Date | null): string | null => (v === null ? null : v.toISOString());

/** etl_tables rows (the checkpoint store's schema) with the lag and the stall computed by the database's clock (state.ts). */
// stalled is NULL (not stalled) when a comparison in it meets a NULL watermark.
const statusTableRow = tableRow.extend({ watermark_age: z.number().nullable(), stalled: z.boolean().nullable() });

const tablesQuery = {
  name: 'etl.status_tables',
  sql: `
    SELECT t.*, ${WATERMARK_AGE_SQL} AS watermark_age, ${STALLED_SQL} AS stalled
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
  return {
    table: t.tableKey,
    source: t.source,
    project: t.project,
    schema: t.sourceSchema,
    name: t.sourceTable,
    target: t.targetTable,
    mode: t.mode,
    phase: t.phase,
    state: tableSyncState({ phase: t.phase, stalled, consecutiveFailures: failures }),
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
