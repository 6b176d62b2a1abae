import crypto from 'node:crypto';
import type { KeyValueStore } from '@tidemark/core';

/** How long a finished result of each table granularity stays cached. */
const TTL_MS: Record<string, number> = { '1m': 30_000, '1h': 300_000, '1d': 3_600_000, raw: 15_000 };
/** A result whose range reaches the still-filling bucket is kept only this long: never as final. */
const OPEN_TTL_MS = 5_000;

export function cacheKey(projectId: string, kind: string, request: unknown): string {
  return `qc:${projectId}:${kind}:${crypto.createHash('sha256').update(JSON.stringify(request)).digest('base64url')}`;
}

export function cacheTtl(granularity: string, openEnd: boolean): number {
  return openEnd ? OPEN_TTL_MS : (TTL_MS[granularity] ?? 15_000);
}

/** Result cache in Redis (or the in-process store in embedded mode). Failures of the cache never fail a query. */
export class QueryCache {
  constructor(private readonly kv: KeyValueStore) {}

  async get<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    try {
      return text === undefined ? undefined : (JSON.parse(text) as T);
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.setText(key, JSON.stringify(value), ttlMs);
  }

  /**
   * The stored text as it is, not parsed: a caller that answers with the stored JSON sends it
   * without a parse and a serialization per hit (a 30-day hourly series is 158 KiB of JSON).
   */
  async getText(key: string): Promise<string | undefined> {
    try {
      const v = await this.kv.get(key);
      return v === null ? undefined : v;
    } catch {
      return undefined;
    }
  }

  async setText(key: string, text: string, ttlMs: number): Promise<void> {
    await this.kv.set(key, text, ttlMs).catch(() => undefined);
  }
}
