import { UnavailableError } from '@tidemark/core';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export interface BatcherOptions {
  /** Flush as soon as this many rows wait. */
  maxRows: number;
  /** Flush rows that waited this long. */
  maxDelayMs: number;
  /** Above this many waiting rows new writes are refused (503, retriable): memory stays bounded. */
  maxPendingRows: number;
  /** Flushes running at once. */
  maxConcurrentFlushes: number;
}

/**
 * Collects rows from concurrent writers into larger inserts. Invariant: a
 * writer's promise resolves only after the flush holding all its rows
 * succeeded (its rows are added at once, so they never straddle two
 * flushes), and rejects if that flush failed; nothing is acknowledged early.
 *
 * When rows are flushed: at maxRows; after maxDelayMs; and (group commit)
 * as soon as the last running flush finished, since rows that arrived during
 * an insert have already waited as long as that insert took. Under load the
 * inserts run back to back and grow with the load; at a trickle, rows wait
 * maxDelayMs so ClickHouse is not sent one tiny insert per request.
 */
export class MicroBatcher<T> {
  private rows: T[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly flushFn: (rows: T[]) => Promise<void>,
    private readonly opts: BatcherOptions,
  ) {}

  get pendingRows(): number {
    return this.rows.length;
  }

  add(rows: readonly T[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.rows.length + rows.length > this.opts.maxPendingRows) {
      return Promise.reject(
        new UnavailableError(`ingest buffer is full (${this.rows.length} rows waiting for ClickHouse); retry shortly`, {
          context: { dependency: 'clickhouse' },
          retryAfterMs: 1_000,
        }),
      );
    }
    for (const r of rows) this.rows.push(r);
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.rows.length >= this.opts.maxRows) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
    return p;
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.rows.length > 0 && this.flushing < this.opts.maxConcurrentFlushes) {
      const rows = this.rows;
      const waiters = this.waiters;
      this.rows = [];
      this.waiters = [];
      this.flushing++;
      this.flushFn(rows).then(
        () => waiters.forEach((w) => w.resolve()),
        (err: unknown) => waiters.forEach((w) => w.reject(err)),
      ).finally(() => {
        this.flushing--;
        if (this.rows.length >= this.opts.maxRows || (this.flushing === 0 && this.rows.length > 0)) this.kick();
        else if (this.rows.length > 0) this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
        if (this.flushing === 0 && this.rows.length === 0) this.idle.splice(0).forEach((f) => f());
      });
    }
  }

  /** Flushes what waits and resolves when nothing is in flight. */
  async drain(): Promise<void> {
    if (this.rows.length > 0) this.kick();
    if (this.flushing === 0 && this.rows.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
