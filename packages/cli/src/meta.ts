import path from 'node:path';
import net from 'node:net';
import { ALERTING_POSTGRES_MIGRATIONS_DIR } from '@tidemark/alerting';
import { API_POSTGRES_MIGRATIONS_DIR } from '@tidemark/api';
import { createPgPool, migratePostgres, POSTGRES_MIGRATIONS_DIR, type Config, type Logger } from '@tidemark/core';
import { ETL_POSTGRES_MIGRATIONS_DIR } from '@tidemark/etl';
import { resolvePostgresCredentials, startEmbeddedPostgres } from '@tidemark/embedded-postgres';
import type { Pool } from 'pg';

/**
 * Every metadata Postgres migrations folder of the platform: core's and each
 * role's that has tables. Composed here, the one place that knows all roles
 * (core depends on none); `tidemark start`, `tidemark migrate` and the
 * one-off commands' embedded Postgres all migrate with this list, so they
 * never disagree on the schema.
 */
export const PLATFORM_POSTGRES_MIGRATION_DIRS: readonly string[] = [
  POSTGRES_MIGRATIONS_DIR,
  ALERTING_POSTGRES_MIGRATIONS_DIR,
  ETL_POSTGRES_MIGRATIONS_DIR,
  API_POSTGRES_MIGRATIONS_DIR,
];

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * The metadata Postgres for one-off commands: META_DATABASE_URL, else the
 * embedded PGlite of a running `tidemark start`, else PGlite started here on
 * the data directory for the duration of the command.
 */
export async function connectMeta(config: Config, logger: Logger): Promise<{ pool: Pool; close(): Promise<void> }> {
  const log = logger.child({ component: 'meta-postgres' });
  if (config.META_DATABASE_URL) {
    const pool = createPgPool({ url: config.META_DATABASE_URL, max: 2, logger: log });
    return { pool, close: () => pool.end() };
  }
  // The embedded Postgres authenticates with the password kept in the data directory.
  const { credentials } = resolvePostgresCredentials(config.TIDEMARK_DATA_DIR);
  if (await portOpen(config.TIDEMARK_HOST, config.EMBEDDED_POSTGRES_PORT)) {
    const url = `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@${config.TIDEMARK_HOST}:${config.EMBEDDED_POSTGRES_PORT}/postgres`;
    const pool = createPgPool({ url, max: 2, logger: log });
    return { pool, close: () => pool.end() };
  }
  const pg = await startEmbeddedPostgres({
    dataDir: path.resolve(config.TIDEMARK_DATA_DIR, 'postgres'),
    host: '127.0.0.1',
    port: 0,
    logger: log,
    auth: credentials,
  });
  const pool = createPgPool({ url: pg.url, max: 2, logger: log });
  await migratePostgres({ pool, dirs: PLATFORM_POSTGRES_MIGRATION_DIRS, logger: log });
  return {
    pool,
    async close() {
      await pool.end();
      await pg.close();
    },
  };
}
