import { ValidationError, type ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { sendJsonText, type CompressedCopies } from '../http/compressed';
import { route, type AnyRoute } from '../http/route';
import { cacheKey, cacheTtl, type QueryCache } from '../query/cache';
import { timeseriesRequest, type IntervalName, type TimeseriesRequest } from '../query/schema';
import { autoInterval, markPartial, plan, resolveRange, runWithTotals, type Series } from '../query/timeseries';

export interface TimeseriesResult {
  meta: { table: string; granularity: string; interval: IntervalName; timezone: string; from: number; to: number; approximate: string[]; cached: boolean };
  series: Series[];
  previous?: Series[];
}

/**
 * Runs a time-series request for a project, through the cache unless bypassed: the answer as
 * JSON text, exactly what POST /api/v1/query/timeseries sends, its cache key, and whether it is
 * a hit. The cache holds the text of a hit's answer (`meta.cached: true`), so a hit is sent as
 * stored: no parse and no serialization per request (a 30-day hourly series by name is 158 KiB
 * of JSON; parsing and serializing it again was most of a cached request's time).
 */
export async function timeseriesJson(
  ch: ClickHouse,
  cache: QueryCache,
  projectId: string,
  req: TimeseriesRequest,
  opts: { bypassCache?: boolean; now?: number } = {},
): Promise<{ json: string; key: string; hit: boolean }> {
  const now = opts.now ?? Date.now();
  const roughRange = 'last' in req.range ? 0 : Date.parse(String(req.range.to)) - Date.parse(String(req.range.from));
  const interval: IntervalName =
    req.interval === 'auto'
      ? autoInterval('last' in req.range ? resolveRange(req, '1m', now).to - resolveRange(req, '1m', now).from : roughRange || 86_400_000)
      : req.interval;
  const range = resolveRange(req, interval, now);
  // 'ts.json': the entries are answer texts; a key of its own, so no process reads another version's entries as answers.
  const key = cacheKey(projectId, 'ts.json', { req, from: range.from, to: range.openEnd ? Math.floor(now / 5000) : range.to });
  if (!opts.bypassCache) {
    const hit = await cache.getText(key);
    if (hit !== undefined) return { json: hit, key, hit: true };
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
  const meta: TimeseriesResult['meta'] = {
    table: pl.table,
    granularity: pl.granularity,
    interval,
    timezone: req.timezone,
    from: range.from,
    to: range.to,
    approximate: pl.approximate,
    cached: false,
  };
  // JSON.stringify of a TimeseriesResult, with the series (the bulk) serialized once for both texts: this answer
  // (cached: false) and the one stored for the hits (cached: true).
  const seriesJson = JSON.stringify(series);
  const previousJson = previous ? JSON.stringify(previous) : undefined;
  const text = (cached: boolean): string =>
    `{"meta":${JSON.stringify({ ...meta, cached })},"series":${seriesJson}${previousJson === undefined ? '' : `,"previous":${previousJson}`}}`;
  await cache.setText(key, text(true), cacheTtl(pl.granularity, range.openEnd));
  return { json: text(false), key, hit: false };
}

/** timeseriesJson's answer as an object (for callers in the process; the route sends the text). */
export async function timeseries(
  ch: ClickHouse,
  cache: QueryCache,
  projectId: string,
  req: TimeseriesRequest,
  opts: { bypassCache?: boolean; now?: number } = {},
): Promise<TimeseriesResult> {
  return JSON.parse((await timeseriesJson(ch, cache, projectId, req, opts)).json) as TimeseriesResult;
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

export function timeseriesRoutes(deps: { clickhouse: ClickHouse; cache: QueryCache; compressed: CompressedCopies }): AnyRoute[] {
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
        const answer = await timeseriesJson(deps.clickhouse, deps.cache, principal.projectId, body, { bypassCache: bypass });
        // Sent as the JSON text it is, not as an object Koa would serialize again; a hit (the stored text, the same for
        // every request until it expires) with its compressed copies, made once per cache key and encoding.
        await sendJsonText(ctx, answer.json, answer.hit ? { copies: deps.compressed, key: answer.key } : undefined);
        return undefined;
      },
    }),
  ];
}
