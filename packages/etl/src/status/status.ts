/**
 * Sync status: read by the query API (getSyncStatus over the metadata
 * Postgres), exported as Prometheus gauges, and mirrored into ClickHouse
 * (etl_sync_status_v1, clickhouse/0200_etl_status.sql) where the alert rules
 * read it. This file is the status module's public face: the query API and
 * the tests import it by this path.
 */
export { getSyncStatus } from './read';
export { exportMetrics } from './prometheus';
export { publishStatusToClickHouse } from './clickhouse';
export { ETL_ALERT_RULES } from './alert-rules';
export type { SyncStatus, TableSyncStatus, SourceSyncStatus, ReconciliationStatus, TableSyncPhase, TableSyncState } from './types';
