/**
 * Connections to a source Postgres and the read transactions every read
 * runs in.
 *
 * Every read is one REPEATABLE READ, READ ONLY transaction: all its
 * statements (the page's upper bound, the rows, the version) see one
 * snapshot. Formatting settings are SET LOCAL inside it, because startup
 * options are not honoured everywhere (the embedded PGlite server ignores
 * them) and plain SET would leak into other sessions there.
 */
import { Pool, type PoolClient } from 'pg';
import { z } from 'zod';
import { InternalError, pgOne, type Logger } from '@tidemark/core';

/** application_name prefix of every ETL connection; the horizon query ignores these read-only sessions. */
export const ETL_APPLICATION_NAME = 'tidemark-etl';

export function createSourcePool(opts: { url: string; source: string; max: number; logger: Logger }): Pool {
  const pool = new Pool({
    connectionString: opts.url,
    max: opts.max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: `${ETL_APPLICATION_NAME}:${opts.source}`,
  });
  pool.on('error', (err) => opts.logger.warn({ err, source: opts.source }, 'idle source connection failed'));
  return pool;
}

/** Settings the text forms of target/types.ts rely on. */
const LOCAL_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  'SET LOCAL extra_float_digits = 1',
  "SET LOCAL bytea_output = 'hex'",
  'SET LOCAL standard_conforming_strings = on',
].join('; ');

const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i;

/** Opens a read transaction on `client`; optionally adopting an exported snapshot. */
export async function beginRead(client: PoolClient, opts: { snapshotId?: string; readOnly?: boolean } = {}): Promise<void> {
  await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ${opts.readOnly === false ? '' : ', READ ONLY'}`);
  if (opts.snapshotId) {
    // SET TRANSACTION SNAPSHOT takes no parameters; the id comes from
    // pg_export_snapshot() and is checked to be exactly that shape.
    if (!SNAPSHOT_ID.test(opts.snapshotId)) throw new InternalError(`unexpected snapshot id ${JSON.stringify(opts.snapshotId)}`);
    await client.query(`SET TRANSACTION SNAPSHOT '${opts.snapshotId}'`);
  }
  await client.query(LOCAL_SETTINGS);
}

/**
 * Runs `fn` in a read transaction on a pooled connection. A failure
 * destroys the connection (it may be mid-COPY) instead of returning it.
 */
export async function withRead<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, opts: { snapshotId?: string } = {}): Promise<T> {
  const client = await pool.connect();
  let ok = false;
  try {
    await beginRead(client, opts);
    const out = await fn(client);
    await client.query('COMMIT');
    ok = true;
    return out;
  } finally {
    if (ok) client.release();
    else client.release(true);
  }
}

const xmaxQuery = { name: 'etl.snapshot_xmax', sql: `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS v`, row: z.object({ v: z.string() }) };

/** The snapshot's xmax (xid8 as text): a version that only grows, taken from the source, never from our clock. */
export async function snapshotXmax(client: PoolClient): Promise<string> {
  return (await pgOne(client, xmaxQuery)).v;
}
