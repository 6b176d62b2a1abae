import type { RouterContext } from '@koa/router';
import { cacheKey, type QueryCache } from '../query/cache';

/**
 * Runs a statistic through the result cache (Redis, or the in-process store):
 * the key is the project, the statistic and its validated query. A request
 * with `Cache-Control: no-cache` computes afresh. The answer says which in
 * the X-Cache header (hit or miss). Without ctx (an inner part of an answer)
 * the cache is always used.
 */
export async function cached<T>(
  cache: QueryCache,
  ctx: RouterContext | undefined,
  projectId: string,
  kind: string,
  request: unknown,
  ttlMs: number,
  compute: () => Promise<T>,
): Promise<T> {
  const key = cacheKey(projectId, kind, request);
  if (!ctx || !/no-cache/i.test(ctx.get('cache-control'))) {
    const hit = await cache.get<T>(key);
    if (hit !== undefined) {
      ctx?.set('X-Cache', 'hit');
      return hit;
    }
  }
  const value = await compute();
  await cache.set(key, value, ttlMs);
  ctx?.set('X-Cache', 'miss');
  return value;
}

/** How long each kind of statistic stays cached. The business tables change with the ETL's sync; events arrive all the time. */
export const TTL = { business: 60_000, dashboard: 15_000, ai: 30_000, usage: 60_000 } as const;
