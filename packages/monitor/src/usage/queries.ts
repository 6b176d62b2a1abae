import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { HEARTBEAT_EVENT } from './heartbeat';

const num = z.coerce.number();
const projectParams = z.object({ project_id: z.string().min(1), event: z.literal(HEARTBEAT_EVENT).default(HEARTBEAT_EVENT) });
const windowParams = projectParams.extend({ now: z.string(), days: z.number().int().min(1).max(365) });

/**
 * The usage statistics (requirement 004's stats summary) as typed queries
 * over the heartbeats of one project, for the query API to mount:
 *
 * - totalInstalls: installs ever seen, from the daily rollup (kept forever;
 *   `uniq` is exact below ~65k installs, an estimate above).
 * - activeInstalls: installs that sent a heartbeat in the last `days` days
 *   (1 = daily active, 7 = weekly active), exact, from the raw table.
 * - dailyActive: daily active installs per day over a range.
 * - osDistribution / versionDistribution: active installs in the last
 *   `days` days by their latest OS / Tidemark version.
 *
 * `now` is ClickHouse DateTime64 text in UTC (tests pin it; the API passes
 * the request time).
 */
export function usageStatsQueries(ch: ClickHouse) {
  return {
    totalInstalls: ch.query({
      name: 'usage.total_installs',
      sql: `SELECT uniqMerge(users) AS installs FROM events_1d_v1 WHERE project_id = {project_id:String} AND name = {event:String}`,
      params: projectParams,
      row: z.object({ installs: num }),
    }),
    activeInstalls: ch.query({
      name: 'usage.active_installs',
      sql: `SELECT uniqExact(distinct_id) AS installs FROM events_raw_v1
            WHERE project_id = {project_id:String} AND name = {event:String}
              AND timestamp > {now:DateTime64(3, 'UTC')} - toIntervalDay({days:UInt16}) AND timestamp <= {now:DateTime64(3, 'UTC')}`,
      params: windowParams,
      row: z.object({ installs: num }),
    }),
    dailyActive: ch.query({
      name: 'usage.daily_active',
      sql: `SELECT toString(toDate(bucket)) AS day, uniqMerge(users) AS installs FROM events_1d_v1
            WHERE project_id = {project_id:String} AND name = {event:String} AND bucket >= toDate({from:String}) AND bucket <= toDate({to:String})
            GROUP BY day ORDER BY day`,
      params: projectParams.extend({ from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
      row: z.object({ day: z.string(), installs: num }),
    }),
    osDistribution: ch.query({
      name: 'usage.os_distribution',
      sql: `SELECT os, count() AS installs FROM (
              SELECT distinct_id, argMax(os, timestamp) AS os FROM events_raw_v1
              WHERE project_id = {project_id:String} AND name = {event:String}
                AND timestamp > {now:DateTime64(3, 'UTC')} - toIntervalDay({days:UInt16}) AND timestamp <= {now:DateTime64(3, 'UTC')}
              GROUP BY distinct_id)
            GROUP BY os ORDER BY installs DESC, os`,
      params: windowParams,
      row: z.object({ os: z.string(), installs: num }),
    }),
    versionDistribution: ch.query({
      name: 'usage.version_distribution',
      sql: `SELECT version, count() AS installs FROM (
              SELECT distinct_id, argMax(app_version, timestamp) AS version FROM events_raw_v1
              WHERE project_id = {project_id:String} AND name = {event:String}
                AND timestamp > {now:DateTime64(3, 'UTC')} - toIntervalDay({days:UInt16}) AND timestamp <= {now:DateTime64(3, 'UTC')}
              GROUP BY distinct_id)
            GROUP BY version ORDER BY installs DESC, version`,
      params: windowParams,
      row: z.object({ version: z.string(), installs: num }),
    }),
  };
}

export type UsageStatsQueries = ReturnType<typeof usageStatsQueries>;

export interface UsageSummary {
  total_installs: number;
  daily_active: number;
  weekly_active: number;
  /** Active installs of the last 30 days by OS / version. */
  os_distribution: Record<string, number>;
  version_distribution: Record<string, number>;
}

/** ClickHouse DateTime64(3) text of an instant. */
export function chNow(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The summary the requirements' stats page shows, in one call. */
export async function usageSummary(q: UsageStatsQueries, projectId: string, nowMs: number = Date.now()): Promise<UsageSummary> {
  const now = chNow(nowMs);
  const p = { project_id: projectId };
  const [total, daily, weekly, os, versions] = await Promise.all([
    q.totalInstalls(p),
    q.activeInstalls({ ...p, now, days: 1 }),
    q.activeInstalls({ ...p, now, days: 7 }),
    q.osDistribution({ ...p, now, days: 30 }),
    q.versionDistribution({ ...p, now, days: 30 }),
  ]);
  return {
    total_installs: total[0]?.installs ?? 0,
    daily_active: daily[0]?.installs ?? 0,
    weekly_active: weekly[0]?.installs ?? 0,
    os_distribution: Object.fromEntries(os.map((r) => [r.os, r.installs])),
    version_distribution: Object.fromEntries(versions.map((r) => [r.version, r.installs])),
  };
}
