/**
 * @tidemark/etl — Postgres business tables kept in sync in ClickHouse.
 * See docs/etl.md.
 */
export { etlSettings, etlRoleConfigSchema, type EtlRoleConfig } from './settings';
export { etlRole, startEtl, type EtlRoleHandle } from './role';
export { EtlEngine, type EtlEngineOptions } from './engine';
export * from './config/schema';
export { parseEtlConfig, loadEtlConfigFile } from './config/load';
export { parseDuration, formatDuration } from './config/duration';
export { getSyncStatus, exportMetrics, publishStatusToClickHouse, ETL_ALERT_RULES } from './status/status';
export type { SyncStatus, TableSyncStatus, SourceSyncStatus, ReconciliationStatus, TableSyncPhase, TableSyncState } from './status/status';
export { runTable, type TableRunResult, type RunOptions } from './sync/table-sync';
export type { ReconcileResult } from './sync/reconcile';
export { contentStatus, type ContentResult, type ContentStatus } from './sync/content';
// Row quarantine, read side: what the query API and the dashboard list (read-only; creates nothing).
export { listQuarantinedRows, quarantineSummary, type QuarantinedRow } from './sync/quarantine';
export type { SyncDeps, SyncHooks, LandedInfo } from './sync/deps';
export { CdcStream } from './sync/cdc';
export { Progress, logProgress, progressPrinter, type ProgressEvent, type ProgressListener } from './progress/progress';
export { createSourcePool } from './source/session';
export { EtlDataError, SchemaIncompatibleError, CheckpointConflictError } from './errors';
export { runDemoSource, demoEtlConfig, DEMO_SCHEMA, DEMO_SOURCE, type DemoSource } from './demo/run';
export { createDemoSchema, fillDemo, demoSizes, demoCounts, startChangeLoop, makeChanges, type DemoSizes, type ChangeLoop } from './demo/generator';
export { DEMO_TABLES, DEMO_KEYS, DEMO_VALUES } from './demo/schema';
export { ETL_POSTGRES_MIGRATIONS_DIR } from './migrations';
