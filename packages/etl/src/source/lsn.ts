/**
 * LSN helpers and the "safe LSN" that versions rows read by a snapshot in
 * CDC mode.
 *
 * CDC lands each change with version = the commit LSN of its transaction.
 * Rows read by a snapshot need a version v such that
 *   - every transaction visible to the snapshot committed below v, or is
 *     replayed by the stream with a version above v anyway (harmless), and
 *   - every transaction NOT visible to the snapshot commits above v, so its
 *     change wins over the snapshot's older row.
 * Reading v = pg_current_wal_insert_lsn() first, then (in a later statement)
 * xmax = pg_snapshot_xmax(pg_current_snapshot()), then waiting until
 * pg_snapshot_xmin(pg_current_snapshot()) >= xmax before taking the data
 * snapshot gives exactly that: a transaction whose commit record lies below
 * v was either finished at the xmax statement (visible) or still running
 * there with an xid below xmax, which the wait lets finish (visible); one not
 * visible to the data snapshot got its xid after the xmax statement, hence
 * wrote its commit record after v.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { pgOne, TimeoutError } from '@tidemark/core';

/** '16/B374D848' → 97500059720 (as a decimal string). */
export function lsnToDecimal(lsn: string): string {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return ((BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`)).toString();
}

export function decimalToLsn(value: string | bigint): string {
  const v = BigInt(value);
  return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase().padStart(8, '0')}`;
}

export function compareLsn(a: string, b: string): number {
  const x = BigInt(lsnToDecimal(a));
  const y = BigInt(lsnToDecimal(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

const olderWriters = {
  name: 'etl.older_writers',
  sql: `SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS ok,
               (SELECT pid || ' (' || coalesce(application_name, '') || ', since ' || xact_start || ')' FROM pg_stat_activity
                 WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 1) AS oldest`,
  row: z.object({ ok: z.boolean(), oldest: z.string().nullable() }),
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** See the module comment. Waits at most `timeoutMs` for older transactions to end. */
export async function safeSnapshotLsn(pool: Pool, opts: { timeoutMs?: number } = {}): Promise<{ version: string; lsn: string }> {
  const { lsn } = await pgOne(pool, { name: 'etl.insert_lsn', sql: `SELECT pg_current_wal_insert_lsn()::text AS lsn`, row: z.object({ lsn: z.string() }) });
  const { xmax } = await pgOne(pool, {
    name: 'etl.current_xmax',
    sql: `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax`,
    row: z.object({ xmax: z.string() }),
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    const row = await pgOne(pool, olderWriters, [xmax]);
    if (row.ok) break;
    if (Date.now() > deadline) {
      throw new TimeoutError(
        `waited ${opts.timeoutMs ?? 120_000} ms for transactions older than the snapshot to finish (oldest writer: ${row.oldest ?? 'unknown'})`,
      );
    }
    await sleep(50);
  }
  return { version: lsnToDecimal(lsn), lsn };
}
