import { gauge, type Registry } from '@tidemark/core';
import type { SyncStatus } from './types';

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
