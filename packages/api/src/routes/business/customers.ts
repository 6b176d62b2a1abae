import { z } from 'zod';
import { cached, TTL } from '../../analytics/cached';
import { customerQueries, customerSummary, customerTrend, CUSTOMER_DIMS } from '../../analytics/business/customers';
import { dateParam, intParam, periodParam, PERIODS, timezoneParam } from '../../analytics/dates';
import { route, type AnyRoute } from '../../http/route';
import { BASE, n, partial, rangeQuery, share, type BusinessDeps } from './common';

/** Customer statistics: the summary and the trend of new customers. */
export function customerRoutes(deps: BusinessDeps): AnyRoute[] {
  const q = customerQueries(deps.clickhouse);
  return [
    route({
      method: 'get',
      path: `${BASE}/customers/summary`,
      summary: 'Customers: total; by type, source, channel, region, industry and size; new and active (with a service record) in the last N days',
      tag: 'analytics',
      auth: 'read',
      query: z.object({
        days: intParam(1, 3650, 30).describe('window of "new" and "active" customers, in days back from now (default 30)'),
        start_date: dateParam
          .optional()
          .describe('with end_date: count new and active customers over these calendar days instead of `days` (the window of the other business statistics)'),
        end_date: dateParam.optional().describe('last day, inclusive (default today)'),
        timezone: timezoneParam,
        top: intParam(1, 1000, 20).describe('largest values listed per dimension (default 20)'),
      }),
      response: z.object({
        start_date: z.string().optional(),
        end_date: z.string().optional(),
        timezone: z.string().optional(),
        total: z.number(),
        new_customers: z.object({ days: z.number(), count: z.number() }),
        active_customers: z.object({ days: z.number(), count: z.number(), percent: z.number().nullable() }),
        ...Object.fromEntries(CUSTOMER_DIMS.map((d) => [`by_${d}`, z.array(share)])),
      }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'customers.summary', query, TTL.business, () => customerSummary(q, principal.projectId, query));
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/customers/trend`,
      summary: 'New customers per day, week (from Monday) or month, with the running total',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        period: z.enum(PERIODS),
        timezone: z.string(),
        start_date: z.string(),
        end_date: z.string(),
        customers_before: n,
        points: z.array(z.object({ date: z.string(), new_customers: n, total_customers: n, partial })),
      }),
      query: z.object({
        period: periodParam.default('day').describe('day | week | month'),
        ...rangeQuery,
        start_date: dateParam.optional().describe('first day (widened to the start of its period); default: 30 days, 12 weeks or 12 months back'),
      }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'customers.trend', query, TTL.business, () => customerTrend(q, principal.projectId, query));
      },
    }),
  ];
}
