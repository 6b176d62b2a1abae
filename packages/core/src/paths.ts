import path from 'node:path';

/** The repository's clickhouse/ folder: the source of truth of the ClickHouse schema. */
export const CLICKHOUSE_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', '..', 'clickhouse');
/**
 * Core's own metadata Postgres migrations (projects, API keys, ingest; versions
 * 00xx), shipped with this package. Each role ships its own folder (alerting
 * 01xx, etl 02xx, api 03xx); the platform (packages/cli) passes them all to
 * migratePostgres, since core depends on no role.
 */
export const POSTGRES_MIGRATIONS_DIR = path.resolve(__dirname, '..', 'sql', 'postgres');
