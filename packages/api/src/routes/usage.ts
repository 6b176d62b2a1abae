import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { cached, TTL } from '../analytics/cached';
import { intParam, timezoneParam } from '../analytics/dates';
import { installDistribution, installStatistics, usageQueries } from '../analytics/usage';
import { route, type AnyRoute } from '../http/route';
import type { QueryCache } from '../query/cache';

/**
 * Anonymous usage statistics of installations (/api/analytics-monitoring/usage/...):
 * thin routes over analytics/usage.ts, the only implementation of these
 * statistics (what an install is, and each figure, is stated there and in docs/api.md).
 */

/** One OS or version and its share of the active installations. */
const share = z.object({ value: z.string(), installs: z.number(), percent: z.number().nullable() });

export function usageRoutes(deps: { clickhouse: ClickHouse; cache: QueryCache }): AnyRoute[] {
  const q = usageQueries(deps.clickhouse);
  const base = '/api/analytics-monitoring/usage';

  return [
    route({
      method: 'get',
      path: `${base}/installs`,
      summary: 'Installations: total seen, active in the last 1/7/30 days, new; daily active and new installs',
      tag: 'usage',
      auth: 'read',
      response: z.object({
        total_installs: z.number(),
        daily_active: z.number(),
        weekly_active: z.number(),
        monthly_active: z.number(),
        new_installs_7d: z.number(),
        new_installs_30d: z.number(),
        timezone: z.string(),
        daily: z.array(z.object({ date: z.string(), active_installs: z.number(), new_installs: z.number() })),
      }),
      query: z.object({ days: intParam(1, 90, 30).describe('days of the daily series, today included (default 30)'), timezone: timezoneParam }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'usage.installs', query, TTL.usage, () => installStatistics(q, principal.projectId, query));
      },
    }),
    route({
      method: 'get',
      path: `${base}/distribution`,
      summary: 'Operating system and version of the installations active in the last N days (each counted once, with its latest heartbeat)',
      tag: 'usage',
      auth: 'read',
      response: z.object({
        days: z.number(),
        active_installs: z.number(),
        os: z.array(share),
        version: z.array(share),
      }),
      query: z.object({ days: intParam(1, 365, 30).describe('installations with a heartbeat in the last N days (default 30)') }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'usage.distribution', query, TTL.usage, () =>
          installDistribution(q, principal.projectId, query.days),
        );
      },
    }),
  ];
}
