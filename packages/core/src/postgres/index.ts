import { Pool, type PoolConfig } from 'pg';
import type { Logger } from 'pino';

/**
 * The metadata database pool (rules, alert state, outbox, API keys,
 * checkpoints). The same code serves a real Postgres and embedded PGlite,
 * because PGlite is reached over the Postgres wire protocol too.
 */
export function createPgPool(opts: { url: string; max?: number; logger: Logger; applicationName?: string }): Pool {
  const config: PoolConfig = {
    connectionString: opts.url,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: opts.applicationName ?? 'tidemark',
  };
  const pool = new Pool(config);
  // An idle client's socket error must not crash the process; the pool drops it.
  // During pool.end() the server may close sessions first; that is not a failure.
  pool.on('error', (err) => {
    if (!pool.ending) opts.logger.warn({ err }, 'idle Postgres client failed');
  });
  return pool;
}

/** Hides the password of a connection string for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^/:@]*)(:[^/@]*)?@/, (_m, user: string) => `//${user}:<redacted>@`);
}
export * from './typed';
