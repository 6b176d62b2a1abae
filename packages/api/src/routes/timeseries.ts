import { ValidationError, type ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { route, type AnyRoute } from '../http/route';
import { cacheKey, cacheTtl, type QueryCache } from '../query/cache';
import { timeseriesRequest, type IntervalName, type TimeseriesRequest } from '../query/schema';
import { autoInterval, markPartial, plan, resolveRange, runWithTotals, type Series } from '../query/timeseries';

export interface TimeseriesResult {
  meta: { table: string; granularity: string; interval: IntervalName; timezone: string; from: number; to: number; approximate: string[]; cached: boolean };
  series: Series[];
  previous?: Series[];
}

/** Runs a time-series request for a project, through the cache unless bypassed. */
export async function timeseries(
  ch: ClickHouse,
  cache: QueryCache,
  projectId: string,
  req: TimeseriesRequest,
  opts: { bypassCache?: boolean; now?: number } = {},
): Promise<TimeseriesResult> {
  const now = opts.now ?? Date.now();
  const roughRange = 'last' in req.range ? 0 : Date.parse(String(req.range.to)) - Date.parse(String(req.range.from));
  const interval: IntervalName =
    req.interval === 'auto'
      ? autoInterval('last' in req.range ? resolveRange(req, '1m', now).to - resolveRange(req, '1m', now).from : roughRange || 86_400_000)
      : req.interval;
  const range = resolveRange(req, interval, now);
  const key = cacheKey(projectId, 'ts', { req, from: range.from, to: range.openEnd ? Math.floor(now / 5000) : range.to });
  if (!opts.bypassCache) {
    const hit = await cache.get<TimeseriesResult>(key);
    if (hit) return { ...hit, meta: { ...hit.meta, cached: true } };
  }
  const pl = plan(req, projectId, range, interval);
  let prevRange: { from: number; to: number; openEnd: false } | undefined;
  if (req.compare === 'previous_period') {
    const len = range.to - range.from;
    prevRange = { from: range.from - len, to: range.from, openEnd: false };
    // Timestamps are bound as unsigned; a previous period before 1970 is the caller's range, not a server error.
    if (prevRange.from < 0)
      throw new ValidationError('compare: the previous period would start before 1970; shorten the range', {
        context: { issues: [{ path: 'body.compare', message: 'previous period before 1970' }] },
      });
  }
  // The period and the previous one are independent statements: asked together.
  const [series, previous] = await Promise.all([
    runWithTotals(ch, req, pl, projectId, range, interval),
    prevRange ? runWithTotals(ch, req, plan(req, projectId, prevRange, interval), projectId, prevRange, interval) : undefined,
  ]);
  markPartial(series, interval, now);
  const result: TimeseriesResult = {
    meta: {
      table: pl.table,
      granularity: pl.granularity,
      interval,
      timezone: req.timezone,
      from: range.from,
      to: range.to,
      approximate: pl.approximate,
      cached: false,
    },
    series,
    ...(previous ? { previous } : {}),
  };
  await cache.set(key, result, cacheTtl(pl.granularity, range.openEnd));
  return result;
}

const seriesSchema = z.object({
  dimensions: z.record(z.string(), z.string()),
  /** `t` is the bucket start (ms); each measure by its alias; `partial: true` on a bucket still filling. */
  points: z.array(z.object({ t: z.number(), partial: z.literal(true).optional() }).catchall(z.number().nullable())),
  total: z.record(z.string(), z.number().nullable()).optional().describe('each measure over the whole range'),
});

/** The answer of POST /api/v1/query/timeseries (TimeseriesResult). */
export const timeseriesResponse = z.object({
  meta: z.object({
    table: z.string(),
    granularity: z.string(),
    interval: z.string(),
    timezone: z.string(),
    from: z.number(),
    to: z.number(),
    approximate: z.array(z.string()),
    cached: z.boolean(),
  }),
  series: z.array(seriesSchema),
  previous: z.array(seriesSchema).optional().describe('with compare: previous_period'),
});

export function timeseriesRoutes(deps: { clickhouse: ClickHouse; cache: QueryCache }): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/query/timeseries',
      summary: 'Time series of events or metrics: measures, dimensions, filters, range, interval, timezone, fill, comparison',
      tag: 'query',
      auth: 'read',
      response: timeseriesResponse,
      body: timeseriesRequest,
      query: z.object({ cache: z.enum(['true', 'false']).optional().describe('false bypasses the cache') }),
      async handler({ body, query, principal, ctx }) {
        const bypass = query.cache === 'false' || /no-cache/.test(ctx.get('cache-control'));
        return timeseries(deps.clickhouse, deps.cache, principal.projectId, body, { bypassCache: bypass });
      },
    }),
  ];
}
