import { z } from 'zod';
import { cached, TTL } from '../../analytics/cached';
import { recordQueries, recordStatistics } from '../../analytics/business/service-records';
import { dateParam, intParam } from '../../analytics/dates';
import { route, type AnyRoute } from '../../http/route';
import { BASE, n, nn, rangeQuery, share, type BusinessDeps } from './common';

const recordStatsSchema = {
  total: n,
  open: n,
  resolved: n,
  overdue: n,
  resolved_late: n,
  resolution_rate: nn,
  avg_resolution_hours: nn,
  avg_satisfaction: nn,
  rated: n,
};

/** Service record statistics. */
export function serviceRecordRoutes(deps: BusinessDeps): AnyRoute[] {
  const q = recordQueries(deps.clickhouse);
  return [
    route({
      method: 'get',
      path: `${BASE}/service-records/statistics`,
      summary: 'Service records: open, resolved, overdue, resolution time, satisfaction; by status, priority and assignee',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        start_date: z.string().optional(),
        end_date: z.string().optional(),
        timezone: z.string().optional(),
        ...recordStatsSchema,
        by_status: z.array(share),
        by_priority: z.array(share),
        by_assignee: z.array(z.object({ assignee: z.string(), ...recordStatsSchema })),
      }),
      query: z.object({
        ...rangeQuery,
        start_date: dateParam.optional().describe('only records created from this day (YYYY-MM-DD); default: all records'),
        end_date: dateParam.optional().describe('only records created up to this day, inclusive; default today when start_date is set'),
        top: intParam(1, 1000, 50).describe('assignees listed, most records first (default 50)'),
      }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'service_records.statistics', query, TTL.business, () =>
          recordStatistics(q, principal.projectId, query),
        );
      },
    }),
  ];
}
