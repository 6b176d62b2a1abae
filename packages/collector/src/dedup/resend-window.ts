import type { KeyValueStore, Logger } from '@tidemark/core';

export interface ResendWindowOptions {
  /** Events whose id was accepted less than this long ago are dropped as resends (ms); 0 turns the window off. */
  windowMs: number;
  /** Ids remembered per project and bucket at most; past it the window is shorter for that bucket, never wrong. */
  maxIdsPerBucket: number;
}

/**
 * Drops client resends. An SDK that lost the answer to a request that did
 * land sends the same events again, with the same client-generated
 * event_id. The raw table's uniqExact(event_id) would count them once, but
 * the rollups count rows, so the collector refuses ids it accepted within
 * the window. Ids live in time buckets of half the window (sets in Redis
 * shared by every collector, or in this process in embedded mode); a lookup
 * checks the current and the previous bucket, so an id is remembered for
 * between half the window and the whole of it.
 *
 * Invariants: an id is remembered only after the write that holds it
 * succeeded (a failed write must stay resendable); a lookup failure lets
 * the events through (a possible double count is better than a loss).
 * Only events whose event_id the client chose take part.
 */
export class ResendWindow {
  private readonly bucketMs: number;
  private readonly added = new Map<string, number>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly opts: ResendWindowOptions,
    private readonly logger: Logger,
  ) {
    this.bucketMs = Math.max(1_000, Math.floor(opts.windowMs / 2));
  }

  get enabled(): boolean {
    return this.opts.windowMs > 0;
  }

  private key(projectId: string, bucket: number): string {
    return `resend:${projectId}:${bucket}`;
  }

  /** For each id, whether it was accepted within the window. */
  async seen(projectId: string, ids: readonly string[], now = Date.now()): Promise<boolean[]> {
    if (!this.enabled || ids.length === 0) return ids.map(() => false);
    const bucket = Math.floor(now / this.bucketMs);
    try {
      const [current, previous] = await Promise.all([this.kv.setHas(this.key(projectId, bucket), ids), this.kv.setHas(this.key(projectId, bucket - 1), ids)]);
      return ids.map((_, i) => current[i]! || previous[i]!);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, projectId }, 'resend window lookup failed; accepting the events without it');
      return ids.map(() => false);
    }
  }

  /** Remembers ids whose write succeeded. */
  async remember(projectId: string, ids: readonly string[], now = Date.now()): Promise<void> {
    if (!this.enabled || ids.length === 0) return;
    const bucket = Math.floor(now / this.bucketMs);
    const key = this.key(projectId, bucket);
    const used = this.added.get(key) ?? 0;
    if (used >= this.opts.maxIdsPerBucket) return;
    const take = ids.length <= this.opts.maxIdsPerBucket - used ? ids : ids.slice(0, this.opts.maxIdsPerBucket - used);
    if (this.added.size > 1_000) this.added.clear(); // old buckets' counts; bounded, approximate across replicas
    this.added.set(key, used + take.length);
    try {
      await this.kv.setAdd(key, take, this.bucketMs * 3);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, projectId }, 'could not remember accepted event ids; a resend of them would be counted again');
    }
  }
}
