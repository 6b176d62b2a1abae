import path from 'node:path';

/** The repository's clickhouse/ folder: the source of truth of the ClickHouse schema. */
export const CLICKHOUSE_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', '..', 'clickhouse');
/** Metadata Postgres migrations, shipped with this package. */
export const POSTGRES_MIGRATIONS_DIR = path.resolve(__dirname, '..', 'sql', 'postgres');
