/**
 * The sync status of tables and CDC sources, as getSyncStatus (read.ts)
 * builds it and the query API, the Prometheus export (prometheus.ts) and the
 * ClickHouse mirror (clickhouse.ts) read it.
 */
import type { ContentStatus } from '../sync/content';
import type { TableSyncPhase, TableSyncState } from './state';

export type { TableSyncPhase, TableSyncState };

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
  phase: TableSyncPhase;
  /** tableSyncState (state.ts) of phase, stalled and consecutiveFailures. */
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
