import { TidemarkSdkError, type SignalName } from '../errors';
import { backoffDelay } from '../retry/backoff';
import type { QueueEntry, SendOutcome, Transport } from '../transport/types';
import { Deque } from './deque';
import { DropReporter } from './drops';
import type { PipelineHooks, PipelineOptions, PipelineStats } from './types';
import { FlushWaiters } from './waiters';

export type { PipelineHooks, PipelineOptions, PipelineStats, RetryInfo } from './types';

interface Batch {
  entries: QueueEntry[];
}

/** While shutting down, retry waits are capped so the deadline is used for attempts, not sleep. */
const SHUTDOWN_MAX_RETRY_WAIT_MS = 500;

/**
 * The delivery pipeline of one signal (events, metrics or logs): a bounded
 * queue, batching by count, size and time, concurrent requests, and resends
 * with jittered exponential backoff.
 *
 * Invariants:
 * - queued + in flight <= maxQueueSize. When full, the oldest queued item is
 *   dropped (counted); items inside an outstanding request are not.
 * - A batch that fails retriably goes back to the front of the queue, so
 *   order is kept and those items are the first to go if the queue overflows
 *   while the receiver is away.
 * - After a failure nothing is sent until the backoff (or Retry-After) ran
 *   out: one probe request at a time finds out whether the receiver is back.
 * - Nothing here throws to the caller; `enqueue` is O(1) and never waits.
 *
 * Queue-full reports are aggregated by DropReporter (drops.ts), flush()
 * callers wait in FlushWaiters (waiters.ts).
 */
export class Pipeline {
  private readonly queue: Deque<QueueEntry>;
  private readonly inflight = new Set<Batch>();
  private inflightItems = 0;
  private queuedChars = 0;
  private nextSeq = 1;
  /** The batch timer fired: partial batches go out until the queue is empty. */
  private due = false;
  /** flush()/shutdown(): partial batches go out while the head's seq is at most this. */
  private drainSeq = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private backoffUntil = 0;
  private failures = 0;
  /** Lowered after a 413 so the next request is smaller; back to maxBatchSize after a success. */
  private batchLimit: number;
  private closed = false;
  private gaveUp = false;
  private readonly abort = new AbortController();
  private readonly writtenOff = new WeakSet<Batch>();
  private readonly waiters = new FlushWaiters();
  private readonly drops: DropReporter;
  private readonly counters = { sent: 0, dropped: 0, rejected: 0, failed: 0, retries: 0, requests: 0 };

  constructor(
    readonly signal: SignalName,
    private readonly transport: Transport,
    private readonly opts: PipelineOptions,
    private readonly hooks: PipelineHooks,
  ) {
    this.queue = new Deque<QueueEntry>(opts.maxQueueSize);
    this.batchLimit = opts.maxBatchSize;
    this.drops = new DropReporter(signal, opts.maxQueueSize, (e) => this.hooks.onError(e));
  }

  stats(): PipelineStats {
    return { queued: this.queue.length, inflight: this.inflightItems, ...this.counters };
  }

  /** Queues one item; returns its sequence number, or undefined if it was refused. */
  enqueue(json: string, key: string): number | undefined {
    if (this.closed) {
      this.counters.failed++;
      this.hooks.onError(new TidemarkSdkError('SHUT_DOWN', `${this.signal}: item after shutdown() dropped`, { signal: this.signal, items: 1 }));
      return undefined;
    }
    if (this.queue.length + this.inflightItems >= this.opts.maxQueueSize) {
      const oldest = this.queue.shift();
      this.counters.dropped++;
      this.drops.drop();
      if (oldest === undefined) return undefined; // everything held is in flight: the new item is the one that cannot be kept
      this.queuedChars -= oldest.size;
    }
    const seq = this.nextSeq++;
    this.queue.push({ json, key, size: json.length, seq });
    this.queuedChars += json.length;
    if (this.queue.length >= this.batchLimit || this.queuedChars >= this.opts.maxBatchBytes) this.schedulePump();
    else if (this.batchTimer === undefined) this.armBatchTimer();
    // Dropped items were settled too: a flush() waiting for them may be done.
    if (this.waiters.size > 0) this.settleWaiters();
    return seq;
  }

  /**
   * Sends everything queued so far and resolves true once all of it was
   * settled (acknowledged, rejected or dropped), or false when timeoutMs
   * passed first. Never rejects.
   */
  flush(timeoutMs: number): Promise<boolean> {
    // The caller is about to look at the outcome: drops still waiting for their period are reported now.
    this.drops.flush();
    const target = this.nextSeq - 1;
    if (this.lowestUnsettled() > target) return Promise.resolve(true);
    this.drainSeq = Math.max(this.drainSeq, target);
    this.pump();
    return this.waiters.wait(target, timeoutMs);
  }

  /**
   * Stops taking items and sends what is held until `deadline` (epoch ms).
   * At the deadline, outstanding requests are aborted and whatever is left
   * is counted as failed. Resolves by the deadline (plus the few ms aborted
   * requests need to unwind).
   */
  async shutdown(deadline: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.drainSeq = Number.POSITIVE_INFINITY;
    this.backoffUntil = Math.min(this.backoffUntil, Date.now() + SHUTDOWN_MAX_RETRY_WAIT_MS);
    this.clearBackoffTimer();
    this.pump();
    const remaining = deadline - Date.now();
    const done = await this.waitIdle(remaining);
    if (!done) {
      this.gaveUp = true;
      const left = this.queue.drain();
      this.queuedChars = 0;
      const lost = left.length + this.inflightItems;
      this.counters.failed += left.length;
      this.abort.abort(new Error('shutdown timeout'));
      if (lost > 0) {
        this.hooks.onError(
          new TidemarkSdkError('GAVE_UP', `${this.signal}: ${lost} item(s) still unsent when shutdown's timeout ran out`, { signal: this.signal, items: lost }),
        );
      }
      // Aborted requests settle within a tick or two; their items count as sent or failed then.
      await this.waitInflight(50);
    }
    clearTimeout(this.batchTimer);
    this.clearBackoffTimer();
    this.settleWaiters();
    // Nothing is dropped after this point (items after shutdown() are SHUT_DOWN): the last report.
    this.drops.flush();
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0 && this.inflight.size === 0) return Promise.resolve(true);
    return this.flush(Math.max(0, timeoutMs));
  }

  private async waitInflight(maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    while (this.inflight.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    // Requests that still did not unwind are lost as far as we know; their late outcome is not counted again.
    for (const b of this.inflight) this.writtenOff.add(b);
    this.counters.failed += this.inflightItems;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Off the caller's stack: track() returns at once, the batch is built on the next turn.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private clearBackoffTimer(): void {
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
  }

  /** Starts as many requests as allowed and ready. */
  private pump(): void {
    if (this.gaveUp) return;
    while (this.inflight.size < this.opts.maxConcurrentRequests && this.queue.length > 0) {
      const wait = this.backoffUntil - Date.now();
      if (wait > 0) {
        if (this.backoffTimer === undefined) {
          this.backoffTimer = setTimeout(() => {
            this.backoffTimer = undefined;
            this.pump();
          }, wait);
          this.backoffTimer.unref();
        }
        return;
      }
      const head = this.queue.peek()!;
      const partialOk = this.due || head.seq <= this.drainSeq;
      if (!partialOk && this.queue.length < this.batchLimit && this.queuedChars < this.opts.maxBatchBytes) break;
      const entries: QueueEntry[] = [];
      let chars = 0;
      while (entries.length < this.batchLimit && this.queue.length > 0) {
        const next = this.queue.peek()!;
        if (entries.length > 0 && chars + next.size > this.opts.maxBatchBytes) break;
        this.queue.shift();
        entries.push(next);
        chars += next.size;
      }
      this.queuedChars -= chars;
      void this.send({ entries });
    }
    if (this.queue.length === 0) this.due = false;
    else if (!this.due && this.batchTimer === undefined && this.inflight.size < this.opts.maxConcurrentRequests) this.armBatchTimer();
  }

  /** When the batch timer fires, partial batches go out until the queue is empty. */
  private armBatchTimer(): void {
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      this.due = true;
      this.pump();
    }, this.opts.flushIntervalMs);
    // A pending batch must not keep the host process alive; flush()/shutdown() do that when asked.
    this.batchTimer.unref();
  }

  private async send(batch: Batch): Promise<void> {
    const n = batch.entries.length;
    this.inflight.add(batch);
    this.inflightItems += n;
    this.counters.requests++;
    let outcome: SendOutcome;
    // One controller per request, aborted by its timeout or by shutdown's deadline. (Not
    // AbortSignal.any: on Node 20 it keeps every combined signal reachable from the
    // long-lived shutdown signal, which grows with every request sent.)
    const request = new AbortController();
    const onShutdownAbort = (): void => request.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener('abort', onShutdownAbort, { once: true });
    const timer = setTimeout(() => request.abort(new Error(`no answer within ${this.opts.requestTimeoutMs} ms`)), this.opts.requestTimeoutMs);
    try {
      if (this.abort.signal.aborted) onShutdownAbort();
      outcome = await this.transport.send(this.signal, batch.entries, request.signal);
    } catch (err) {
      // Transports report instead of throwing; a throw is treated as a retriable failure.
      outcome = { kind: 'retry', error: err instanceof Error ? err : new Error(String(err)) };
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onShutdownAbort);
    }
    this.inflight.delete(batch);
    this.inflightItems -= n;
    if (this.writtenOff.has(batch)) return;
    try {
      this.handleOutcome(batch, outcome);
    } finally {
      this.settleWaiters();
      this.pump();
    }
  }

  private handleOutcome(batch: Batch, outcome: SendOutcome): void {
    const n = batch.entries.length;
    if (outcome.kind === 'ok') {
      this.failures = 0;
      this.batchLimit = this.opts.maxBatchSize;
      const rejected = outcome.rejected.length;
      this.counters.sent += n - rejected;
      if (rejected > 0) {
        this.counters.rejected += rejected;
        const first = outcome.rejected[0]!;
        this.hooks.onError(
          new TidemarkSdkError('REJECTED', `${this.signal}: the collector refused ${rejected} of ${n} item(s) (first: item ${first.index}: ${first.reason})`, {
            signal: this.signal,
            items: rejected,
            status: 200,
          }),
        );
      }
      return;
    }
    if (this.gaveUp) {
      // Shutdown's deadline passed while this request was out: its items are lost.
      this.counters.failed += n;
      return;
    }
    if (outcome.kind === 'too_large' && n > 1) {
      // Split: the same items go back and the next requests carry half as many.
      this.batchLimit = Math.max(1, Math.floor(n / 2));
      this.requeue(batch);
      return;
    }
    if (outcome.kind === 'too_large' || outcome.kind === 'fail') {
      this.counters.rejected += n;
      this.hooks.onError(
        new TidemarkSdkError(
          outcome.kind === 'too_large' ? 'ITEM_TOO_LARGE' : 'REJECTED',
          `${this.signal}: ${n} item(s) refused for good: ${outcome.error.message}`,
          {
            signal: this.signal,
            items: n,
            ...(outcome.status !== undefined ? { status: outcome.status } : {}),
            cause: outcome.error,
          },
        ),
      );
      return;
    }
    // Retriable: back to the front, then wait.
    this.requeue(batch);
    this.failures++;
    this.counters.retries++;
    let delay = Math.max(backoffDelay(this.failures - 1, this.opts.retry), outcome.retryAfterMs ?? 0);
    if (this.closed) delay = Math.min(delay, SHUTDOWN_MAX_RETRY_WAIT_MS);
    this.backoffUntil = Math.max(this.backoffUntil, Date.now() + delay);
    this.hooks.onRetry?.({
      signal: this.signal,
      attempt: this.failures,
      delayMs: delay,
      status: outcome.status,
      retryAfterMs: outcome.retryAfterMs,
      error: outcome.error,
    });
    this.hooks.onError(
      new TidemarkSdkError('SEND_RETRY', `${this.signal}: sending ${n} item(s) failed (${outcome.error.message}); retrying in ${delay} ms`, {
        signal: this.signal,
        items: n,
        ...(outcome.status !== undefined ? { status: outcome.status } : {}),
        cause: outcome.error,
      }),
    );
  }

  private requeue(batch: Batch): void {
    // Room is guaranteed: these items were counted in flight until a moment ago.
    for (let i = batch.entries.length - 1; i >= 0; i--) {
      const e = batch.entries[i]!;
      this.queue.unshift(e);
      this.queuedChars += e.size;
    }
  }

  /** Sequence number of the oldest item not yet settled (Infinity when none). */
  private lowestUnsettled(): number {
    let low = this.queue.peek()?.seq ?? Number.POSITIVE_INFINITY;
    for (const b of this.inflight) low = Math.min(low, b.entries[0]?.seq ?? low);
    return low;
  }

  private settleWaiters(): void {
    if (this.waiters.size === 0) return;
    this.waiters.settle(this.gaveUp ? Number.POSITIVE_INFINITY : this.lowestUnsettled(), !this.gaveUp);
  }
}
