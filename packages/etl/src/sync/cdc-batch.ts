/**
 * What the CDC stream accumulates between landings: per table, the last
 * change of every key (upsert or delete, versioned by its transaction's
 * commit LSN), and the commit bookkeeping the checkpoint needs.
 *
 * Invariant: a key's later change replaces its earlier one in the batch
 * (Map.set), so a batch lands each key once, in its latest state.
 */
import { UNCHANGED_TOAST, type Tuple } from '../source/pgoutput';
import type { MappedColumn } from '../target/types';

export interface Op {
  key: string[];
  kind: 'upsert' | 'delete';
  version: string;
}

/** A transaction's changes in order; a TRUNCATE is a barrier between them. */
export type Segment = { kind: 'op'; table: string; op: Op } | { kind: 'truncate'; tables: string[]; version: string };

export interface Txn {
  version: string;
  commitTime: bigint;
  segments: Segment[];
  heartbeat: boolean;
}

export class Batch {
  readonly tables = new Map<string, Map<string, Op>>();
  changes = 0;
  endLsn: string | null = null;
  commitTime: bigint | null = null;
  heartbeat = false;
  firstLsn: string | null = null;
  startedAt = Date.now();

  add(table: string, op: Op): void {
    let m = this.tables.get(table);
    if (!m) this.tables.set(table, (m = new Map()));
    m.set(JSON.stringify(op.key), op);
    this.changes++;
  }

  /**
   * A fresh batch that keeps this one's commit bookkeeping: after a barrier
   * flush inside a transaction, the checkpoint at its commit covers what was
   * landed before the barrier too.
   */
  continuation(): Batch {
    const next = new Batch();
    next.firstLsn = this.firstLsn;
    next.endLsn = this.endLsn;
    next.commitTime = this.commitTime;
    next.heartbeat = this.heartbeat;
    next.startedAt = this.startedAt;
    return next;
  }
}

/** The key of a tuple, or undefined when a key column is missing, NULL or an unchanged TOAST value. */
export function tupleKey(key: readonly MappedColumn[], t: Tuple | null | undefined): string[] | undefined {
  if (!t) return undefined;
  const out: string[] = [];
  for (const k of key) {
    const v = t[k.name];
    if (v === null || v === undefined || v === UNCHANGED_TOAST) return undefined;
    out.push(v);
  }
  return out;
}

/** '2025-01-02 03:04:05.123456+00' from microseconds since the Unix epoch. */
export function microsToText(us: bigint): string {
  const ms = Number(us / 1000n);
  const iso = new Date(ms).toISOString();
  const micro = (us % 1_000_000n).toString().padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micro}+00`;
}
