/**
 * One run per table at a time, across processes and machines.
 *
 * The lock is a session-level advisory lock on the SOURCE Postgres (it needs
 * no setup there, and every worker syncing the same table talks to the same
 * source; the metadata database may be embedded PGlite, whose sessions all
 * share one backend and so cannot exclude each other). A worker that dies
 * loses its connection and with it the lock. Inside one process a map of
 * held keys guards as well (PGlite as a demo source has the same limit).
 *
 * If the lock connection itself breaks mid-run, a second worker could start;
 * the fenced checkpoints (checkpoint/store.ts) then stop the slower one
 * before it moves the table, and landing twice is harmless.
 */
import crypto from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { pgOne } from '@tidemark/core';

/** First key of every Tidemark ETL advisory lock ("TM" + ETL), so they are recognisable in pg_locks. */
export const LOCK_CLASS = 0x544d_0e71 | 0;

const held = new Set<string>();

const tryLock = { name: 'etl.try_table_lock', sql: 'SELECT pg_try_advisory_lock($1, $2) AS ok', row: z.object({ ok: z.boolean() }) };

export function lockKey(name: string): [number, number] {
  const h = crypto.createHash('sha256').update(name).digest();
  return [LOCK_CLASS, h.readInt32BE(0)];
}

export type Locked<T> = { acquired: true; value: T } | { acquired: false };

/** Runs `fn` holding the table's lock, or returns { acquired: false } at once when another run holds it. */
export async function withTableLock<T>(pool: Pool, name: string, fn: () => Promise<T>): Promise<Locked<T>> {
  if (held.has(name)) return { acquired: false };
  held.add(name);
  let client;
  try {
    client = await pool.connect();
  } catch (err) {
    held.delete(name);
    throw err;
  }
  const [a, b] = lockKey(name);
  let locked = false;
  try {
    locked = (await pgOne(client, tryLock, [a, b])).ok;
    if (!locked) return { acquired: false };
    return { acquired: true, value: await fn() };
  } finally {
    held.delete(name);
    let broken = false;
    if (locked) {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [a, b]).catch(() => {
        broken = true;
      });
    }
    client.release(broken);
  }
}
