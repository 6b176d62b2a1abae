import type { KeyValueStore, Logger } from '@tidemark/core';
import type { WarningRow } from '../signals';

/** The part of a normalised batch the window filters (rows[i], lines[i] and indexes[i] belong together). */
export interface ResendBatch<R extends { event_id: string }> {
  rows: R[];
  lines: string[];
  /** Each row's item index in the request. */
  indexes: number[];
  warnings: WarningRow[];
}

export interface ResendWindowOptions {
  /** Events whose id was accepted less than this long ago are dropped as resends (ms); 0 turns the window off. */
  windowMs: number;
  /** Ids remembered per project and bucket at most; past it the window is shorter for that bucket, never wrong. */
  maxIdsPerBucket: number;
  /**
   * Key prefix of the id sets: `resend` (the collector's window of accepted
   * ids, default) or `landed` (the consumer's window of ids landed in
   * ClickHouse). Separate sets: an id the collector accepted has not landed yet.
   */
  prefix?: string;
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
    return `${this.opts.prefix ?? 'resend'}:${projectId}:${bucket}`;
  }

  /**
   * The batch without resends: rows whose client-chosen event_id was accepted
   * within the window, or appears earlier in the same request, are dropped
   * (with their warnings). `remember` gets back `newIds` once the write of
   * the rest succeeded.
   */
  async dropResends<R extends { event_id: string }>(
    projectId: string,
    items: readonly unknown[],
    batch: ResendBatch<R>,
  ): Promise<ResendBatch<R> & { duplicates: number; newIds: string[] }> {
    // Client-chosen ids only (read from the request): a generated id cannot have been sent before.
    const ids: string[] = [];
    const positions: number[] = [];
    batch.indexes.forEach((itemIndex, row) => {
      const id = (items[itemIndex] as { event_id?: unknown } | null)?.event_id;
      if (typeof id === 'string') {
        ids.push(id.toLowerCase());
        positions.push(row);
      }
    });
    const newIds: string[] = [];
    if (!this.enabled || ids.length === 0) return { ...batch, duplicates: 0, newIds };
    const seen = await this.seen(projectId, ids);
    const drop = new Set<number>();
    const inRequest = new Set<string>();
    ids.forEach((id, i) => {
      if (seen[i] || inRequest.has(id)) drop.add(positions[i]!);
      else newIds.push(id);
      inRequest.add(id);
    });
    if (drop.size === 0) return { ...batch, duplicates: 0, newIds };
    const keep = (_: unknown, i: number): boolean => !drop.has(i);
    const rows = batch.rows.filter(keep);
    const keptIds = new Set(rows.map((r) => r.event_id));
    return {
      rows,
      lines: batch.lines.filter(keep),
      indexes: batch.indexes.filter(keep),
      warnings: batch.warnings.filter((w) => keptIds.has(w.event_id)),
      duplicates: drop.size,
      newIds,
    };
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
