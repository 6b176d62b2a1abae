/**
 * Mirrors the sync status into ClickHouse (etl_sync_status_v1,
 * clickhouse/0200_etl_status.sql), where the alert rules (alert-rules.ts)
 * read it.
 */
import { z } from 'zod';
import type { ClickHouse } from '@tidemark/core';
import type { SyncStatus } from './types';

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
