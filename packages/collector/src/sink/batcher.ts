import { UnavailableError } from '@tidemark/core';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export interface BatcherOptions<T = unknown> {
  /** Flush as soon as this many rows wait. */
  maxRows: number;
  /** Flush rows that waited this long. */
  maxDelayMs: number;
  /** Above this many waiting rows new writes are refused (503, retriable): memory stays bounded. */
  maxPendingRows: number;
  /** Flushes running at once. */
  maxConcurrentFlushes: number;
  /**
   * Whether a failed flush failed because of some rows (ClickHouse refused
   * one), not because of the store: then the flush is split by writer so
   * each writer gets its own answer. Absent: never split.
   */
  splitIf?: (err: unknown) => boolean;
  /**
   * What a row counts for maxRows and maxPendingRows (default 1: rows).
   * The Kafka sink weighs messages by bytes, so a flush stays near a byte
   * budget per produce request.
   */
  weight?: (row: T) => number;
  /** Names the store in the 503 of a full buffer (default clickhouse). */
  dependency?: string;
}

/** One writer's rows (kept by reference, not copied) and its promise: a writer's rows are never split across inserts. */
interface Entry<T> {
  rows: readonly T[];
  weight: number;
  waiter: Waiter;
}

/**
 * Collects rows from concurrent writers into larger inserts. Invariant: a
 * writer's promise resolves only after the flush holding all its rows
 * succeeded (its rows are added at once, so they never straddle two
 * flushes), and rejects if that flush failed; nothing is acknowledged early.
 *
 * A flush takes waiting writers in arrival order up to maxRows (at least
 * one writer), so an insert or produce request stays bounded however much
 * piled up while the previous one ran.
 *
 * When rows are flushed: at maxRows; after maxDelayMs; and (group commit)
 * as soon as the last running flush finished, since rows that arrived during
 * an insert have already waited as long as that insert took. Under load the
 * inserts run back to back and grow with the load; at a trickle, rows wait
 * maxDelayMs so ClickHouse is not sent one tiny insert per request.
 *
 * Isolation: when a flush fails and `splitIf` says the failure is
 * row-level, the flush's writers are split in halves and each half is
 * flushed again (recursively), down to the single writer whose rows are
 * refused, which alone gets the error. One writer's bad row therefore costs
 * the others only the extra inserts (about 2·log2(writers)), never their
 * rows. A failure that is not row-level (ClickHouse unreachable after the
 * flush's retries) rejects every writer of the flush, as before.
 */
export class MicroBatcher<T> {
  private entries: Entry<T>[] = [];
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly flushFn: (rows: T[]) => Promise<void>,
    private readonly opts: BatcherOptions<T>,
  ) {}

  get pendingRows(): number {
    return this.pending;
  }

  add(rows: readonly T[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    let weight = rows.length;
    if (this.opts.weight) {
      weight = 0;
      for (const r of rows) weight += this.opts.weight(r);
    }
    if (this.pending + weight > this.opts.maxPendingRows) {
      const dependency = this.opts.dependency ?? 'clickhouse';
      return Promise.reject(
        new UnavailableError(`ingest buffer is full (${this.pending} ${this.opts.weight ? 'units' : 'rows'} waiting for ${dependency}); retry shortly`, {
          context: { dependency },
          retryAfterMs: 1_000,
        }),
      );
    }
    const p = new Promise<void>((resolve, reject) => this.entries.push({ rows, weight, waiter: { resolve, reject } }));
    this.pending += weight;
    if (this.pending >= this.opts.maxRows) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
    return p;
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending > 0 && this.flushing < this.opts.maxConcurrentFlushes) {
      let take = 0;
      let taken = 0;
      while (take < this.entries.length && (take === 0 || taken + this.entries[take]!.weight <= this.opts.maxRows)) taken += this.entries[take++]!.weight;
      const entries = this.entries.splice(0, take);
      this.pending -= taken;
      this.flushing++;
      void this.flushEntries(entries).finally(() => {
        this.flushing--;
        if (this.pending >= this.opts.maxRows || (this.flushing === 0 && this.pending > 0)) this.kick();
        else if (this.pending > 0) this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
        if (this.flushing === 0 && this.pending === 0) this.idle.splice(0).forEach((f) => f());
      });
    }
  }

  /** Flushes the entries as one insert; on a row-level failure, each half on its own. Never rejects. */
  private async flushEntries(entries: Entry<T>[]): Promise<void> {
    const rows: T[] = [];
    for (const e of entries) for (const r of e.rows) rows.push(r);
    try {
      await this.flushFn(rows);
      for (const e of entries) e.waiter.resolve();
    } catch (err) {
      if (entries.length > 1 && this.opts.splitIf?.(err)) {
        const mid = Math.ceil(entries.length / 2);
        await this.flushEntries(entries.slice(0, mid));
        await this.flushEntries(entries.slice(mid));
        return;
      }
      for (const e of entries) e.waiter.reject(err);
    }
  }

  /** Flushes what waits and resolves when nothing is in flight. */
  async drain(): Promise<void> {
    if (this.pending > 0) this.kick();
    if (this.flushing === 0 && this.pending === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
