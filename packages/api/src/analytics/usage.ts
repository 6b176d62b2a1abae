import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { addDays, percent, todayIn } from './dates';
import { EVENTS } from './events';

/**
 * Anonymous usage statistics of installations, the one definition (docs/api.md,
 * "Usage statistics"; the monitor only sends heartbeats): from
 * `tidemark.install.heartbeat` events, an install is the property install_id,
 * else distinct_id (the monitor's heartbeat sends distinct_id); its OS the
 * property os, else context.os; its version the property version, else
 * tidemark_version, else context.app_version. An install is active in a window
 * when it sent a heartbeat in it, new when its first heartbeat is in it. Read
 * from the raw events table, so they reach back RAW_RETENTION_DAYS.
 */

const num = z.coerce.number();

/** Heartbeats of the project up to {now}: the install, its OS and version. */
const HEARTBEATS = `SELECT timestamp,
         coalesce(nullIf(JSONExtractString(properties, 'install_id'), ''), nullIf(distinct_id, '')) AS h_install,
         coalesce(nullIf(JSONExtractString(properties, 'os'), ''), os) AS h_os,
         coalesce(nullIf(JSONExtractString(properties, 'version'), ''), nullIf(JSONExtractString(properties, 'tidemark_version'), ''), app_version) AS h_version
  FROM events_raw_v1
  WHERE project_id = {project:String} AND name = '${EVENTS.heartbeat}' AND timestamp <= fromUnixTimestamp64Milli({now:Int64})`;

export function usageQueries(ch: ClickHouse) {
  return {
    installs: ch.query({
      name: 'usage.installs',
      sql: `WITH fromUnixTimestamp64Milli({now:Int64}) AS n
            SELECT count() AS total,
                   countIf(last >= n - INTERVAL 1 DAY) AS daily_active,
                   countIf(last >= n - INTERVAL 7 DAY) AS weekly_active,
                   countIf(last >= n - INTERVAL 30 DAY) AS monthly_active,
                   countIf(first >= n - INTERVAL 7 DAY) AS new_7d,
                   countIf(first >= n - INTERVAL 30 DAY) AS new_30d
            FROM (SELECT h_install, min(timestamp) AS first, max(timestamp) AS last FROM (${HEARTBEATS}) WHERE h_install IS NOT NULL GROUP BY h_install)`,
      params: z.object({ project: z.string(), now: z.number().int() }),
      row: z.object({ total: num, daily_active: num, weekly_active: num, monthly_active: num, new_7d: num, new_30d: num }),
    }),
    daily: ch.query({
      name: 'usage.installs.daily',
      sql: `SELECT toString(toDate(timestamp, {tz:String})) AS day, uniqExact(h_install) AS active
            FROM (${HEARTBEATS}) WHERE h_install IS NOT NULL AND timestamp >= toDateTime({start:Date}, {tz:String})
            GROUP BY day`,
      params: z.object({ project: z.string(), now: z.number().int(), tz: z.string(), start: z.string() }),
      row: z.object({ day: z.string(), active: num }),
    }),
    firstSeen: ch.query({
      name: 'usage.installs.first_seen',
      sql: `SELECT toString(toDate(first, {tz:String})) AS day, count() AS installs
            FROM (SELECT h_install, min(timestamp) AS first FROM (${HEARTBEATS}) WHERE h_install IS NOT NULL GROUP BY h_install)
            WHERE first >= toDateTime({start:Date}, {tz:String})
            GROUP BY day`,
      params: z.object({ project: z.string(), now: z.number().int(), tz: z.string(), start: z.string() }),
      row: z.object({ day: z.string(), installs: num }),
    }),
    distribution: ch.query({
      name: 'usage.distribution',
      sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS installs
            FROM (SELECT h_install, argMax(h_os, timestamp) AS l_os, argMax(h_version, timestamp) AS l_version
                  FROM (${HEARTBEATS}) WHERE h_install IS NOT NULL AND timestamp >= fromUnixTimestamp64Milli({now:Int64}) - toIntervalDay({days:UInt32})
                  GROUP BY h_install)
            ARRAY JOIN [tuple('os', l_os), tuple('version', l_version)] AS kv
            GROUP BY dimension, value ORDER BY dimension, installs DESC, value`,
      params: z.object({ project: z.string(), now: z.number().int(), days: z.number().int() }),
      row: z.object({ dimension: z.string(), value: z.string(), installs: num }),
    }),
  };
}
export type UsageQueries = ReturnType<typeof usageQueries>;

/** Installs seen, active in the last 1/7/30 days, new in the last 7/30, and the daily series of the last `days` days in tz. */
export async function installStatistics(q: UsageQueries, projectId: string, query: { days: number; timezone: string }, now = Date.now()) {
  const end = todayIn(query.timezone, now);
  const start = addDays(end, -(query.days - 1));
  const args = { project: projectId, now };
  const [[t], perDay, firsts] = await Promise.all([
    q.installs(args),
    q.daily({ ...args, tz: query.timezone, start }),
    q.firstSeen({ ...args, tz: query.timezone, start }),
  ]);
  const active = new Map(perDay.map((x) => [x.day, x.active]));
  const fresh = new Map(firsts.map((x) => [x.day, x.installs]));
  return {
    total_installs: t?.total ?? 0,
    daily_active: t?.daily_active ?? 0,
    weekly_active: t?.weekly_active ?? 0,
    monthly_active: t?.monthly_active ?? 0,
    new_installs_7d: t?.new_7d ?? 0,
    new_installs_30d: t?.new_30d ?? 0,
    timezone: query.timezone,
    daily: Array.from({ length: query.days }, (_, i) => {
      const date = addDays(start, i);
      return { date, active_installs: active.get(date) ?? 0, new_installs: fresh.get(date) ?? 0 };
    }),
  };
}

/** OS and version of the installs active in the last `days` days, each by its latest heartbeat. */
export async function installDistribution(q: UsageQueries, projectId: string, days: number, now = Date.now()) {
  const rows = await q.distribution({ project: projectId, now, days });
  const of = (d: string) => rows.filter((x) => x.dimension === d);
  const total = of('os').reduce((n, x) => n + x.installs, 0);
  const shares = (d: string) => of(d).map((x) => ({ value: x.value, installs: x.installs, percent: percent(x.installs, total) }));
  return { days, active_installs: total, os: shares('os'), version: shares('version') };
}
