import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { cached, TTL } from '../analytics/cached';
import { addDays, intParam, percent, timezoneParam, todayIn } from '../analytics/dates';
import { EVENTS } from '../analytics/events';
import { route, type AnyRoute } from '../http/route';
import type { QueryCache } from '../query/cache';

/**
 * Anonymous usage statistics of installations (/api/analytics-monitoring/usage/...)
 * from `tidemark.install.heartbeat` events: the install is property
 * install_id or else distinct_id (the monitor's heartbeat sends distinct_id),
 * the OS property os or else context.os, the version property version, else
 * tidemark_version, else context.app_version. Read from the raw events
 * table, so they reach back RAW_RETENTION_DAYS. The only implementation of these
 * statistics (the monitor only sends heartbeats); docs/api.md states the definition.
 */

const num = z.coerce.number();

/** One OS or version and its share of the active installations. */
const share = z.object({ value: z.string(), installs: z.number(), percent: z.number().nullable() });

/** Heartbeats of the project up to {now}: the install, its OS and version. */
const HEARTBEATS = `SELECT timestamp,
         coalesce(nullIf(JSONExtractString(properties, 'install_id'), ''), nullIf(distinct_id, '')) AS h_install,
         coalesce(nullIf(JSONExtractString(properties, 'os'), ''), os) AS h_os,
         coalesce(nullIf(JSONExtractString(properties, 'version'), ''), nullIf(JSONExtractString(properties, 'tidemark_version'), ''), app_version) AS h_version
  FROM events_raw_v1
  WHERE project_id = {project:String} AND name = '${EVENTS.heartbeat}' AND timestamp <= fromUnixTimestamp64Milli({now:Int64})`;

export function usageRoutes(deps: { clickhouse: ClickHouse; cache: QueryCache }): AnyRoute[] {
  const ch = deps.clickhouse;
  const base = '/api/analytics-monitoring/usage';
  const installs = ch.query({
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
  });
  const daily = ch.query({
    name: 'usage.installs.daily',
    sql: `SELECT toString(toDate(timestamp, {tz:String})) AS day, uniqExact(h_install) AS active
          FROM (${HEARTBEATS}) WHERE h_install IS NOT NULL AND timestamp >= toDateTime({start:Date}, {tz:String})
          GROUP BY day`,
    params: z.object({ project: z.string(), now: z.number().int(), tz: z.string(), start: z.string() }),
    row: z.object({ day: z.string(), active: num }),
  });
  const firstSeen = ch.query({
    name: 'usage.installs.first_seen',
    sql: `SELECT toString(toDate(first, {tz:String})) AS day, count() AS installs
          FROM (SELECT h_install, min(timestamp) AS first FROM (${HEARTBEATS}) WHERE h_install IS NOT NULL GROUP BY h_install)
          WHERE first >= toDateTime({start:Date}, {tz:String})
          GROUP BY day`,
    params: z.object({ project: z.string(), now: z.number().int(), tz: z.string(), start: z.string() }),
    row: z.object({ day: z.string(), installs: num }),
  });
  const distribution = ch.query({
    name: 'usage.distribution',
    sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS installs
          FROM (SELECT h_install, argMax(h_os, timestamp) AS l_os, argMax(h_version, timestamp) AS l_version
                FROM (${HEARTBEATS}) WHERE h_install IS NOT NULL AND timestamp >= fromUnixTimestamp64Milli({now:Int64}) - toIntervalDay({days:UInt32})
                GROUP BY h_install)
          ARRAY JOIN [tuple('os', l_os), tuple('version', l_version)] AS kv
          GROUP BY dimension, value ORDER BY dimension, installs DESC, value`,
    params: z.object({ project: z.string(), now: z.number().int(), days: z.number().int() }),
    row: z.object({ dimension: z.string(), value: z.string(), installs: num }),
  });

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
        return cached(deps.cache, ctx, principal.projectId, 'usage.installs', query, TTL.usage, async () => {
          const now = Date.now();
          const end = todayIn(query.timezone, now);
          const start = addDays(end, -(query.days - 1));
          const args = { project: principal.projectId, now };
          const [[t], perDay, firsts] = await Promise.all([installs(args), daily({ ...args, tz: query.timezone, start }), firstSeen({ ...args, tz: query.timezone, start })]);
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
        });
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
        return cached(deps.cache, ctx, principal.projectId, 'usage.distribution', query, TTL.usage, async () => {
          const rows = await distribution({ project: principal.projectId, now: Date.now(), days: query.days });
          const of = (d: string) => rows.filter((x) => x.dimension === d);
          const total = of('os').reduce((n, x) => n + x.installs, 0);
          const shares = (d: string) => of(d).map((x) => ({ value: x.value, installs: x.installs, percent: percent(x.installs, total) }));
          return { days: query.days, active_installs: total, os: shares('os'), version: shares('version') };
        });
      },
    }),
  ];
}
