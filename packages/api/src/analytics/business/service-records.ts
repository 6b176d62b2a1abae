import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { bizQuery, bizRows, inDates, text } from '../biz';
import { percent, resolveRange, round } from '../dates';
import { distribution, DIST_ROW, maybeNum, num, project } from './common';

/**
 * Service records (biz_service_records_v1): open, resolved, overdue (open
 * past due_at), resolved late, resolution time and satisfaction (ratings
 * 1-5 only), in total, by status and priority, and per assignee. Without a
 * date window every record counts ({ranged:UInt8} = 0).
 */

const recordFilter = `({ranged:UInt8} = 0 OR ${inDates('created_at')})`;
const recordParams = z.object({ project, now: z.number().int(), ranged: z.number().int(), tz: z.string(), start: z.string(), end: z.string() });
const RECORD_STATS = `count() AS total,
      countIf(resolved_at IS NULL) AS open,
      countIf(resolved_at IS NOT NULL) AS resolved,
      countIf(resolved_at IS NULL AND due_at < fromUnixTimestamp64Milli({now:Int64})) AS overdue,
      countIf(resolved_at IS NOT NULL AND resolved_at > due_at) AS resolved_late,
      avgIf(dateDiff('second', created_at, resolved_at), resolved_at IS NOT NULL) / 3600 AS avg_resolution_hours,
      avgIf(satisfaction, satisfaction BETWEEN 1 AND 5) AS avg_satisfaction,
      countIf(satisfaction BETWEEN 1 AND 5) AS rated`;
const statsRow = {
  total: num,
  open: num,
  resolved: num,
  overdue: num,
  resolved_late: num,
  avg_resolution_hours: maybeNum,
  avg_satisfaction: maybeNum,
  rated: num,
};
type StatsRow = z.output<z.ZodObject<typeof statsRow>>;
const NO_RECORDS: StatsRow = { total: 0, open: 0, resolved: 0, overdue: 0, resolved_late: 0, avg_resolution_hours: null, avg_satisfaction: null, rated: 0 };

export function recordQueries(ch: ClickHouse) {
  return {
    totals: bizQuery(ch, {
      name: 'analytics.service_records.totals',
      sql: `SELECT ${RECORD_STATS} FROM ${bizRows('serviceRecords')} AND ${recordFilter}`,
      params: recordParams,
      row: z.object(statsRow),
    }),
    distribution: bizQuery(ch, {
      name: 'analytics.service_records.distribution',
      sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count
            FROM (SELECT ${text('status')} AS r_status, ${text('priority')} AS r_priority FROM ${bizRows('serviceRecords')} AND ${recordFilter})
            ARRAY JOIN [tuple('status', r_status), tuple('priority', r_priority)] AS kv
            GROUP BY dimension, value ORDER BY dimension, count DESC, value`,
      params: recordParams.omit({ now: true }),
      row: DIST_ROW,
    }),
    assignees: bizQuery(ch, {
      name: 'analytics.service_records.assignees',
      sql: `SELECT ${text('assignee')} AS who, ${RECORD_STATS} FROM ${bizRows('serviceRecords')} AND ${recordFilter}
            GROUP BY who ORDER BY total DESC, who LIMIT {top:UInt32}`,
      params: recordParams.extend({ top: z.number().int() }),
      row: z.object({ who: z.string(), ...statsRow }),
    }),
  };
}
export type RecordQueries = ReturnType<typeof recordQueries>;

/** The answer's figures of one stats row: resolution rate added, averages rounded. */
function recordStatsOut(r: StatsRow) {
  return {
    total: r.total,
    open: r.open,
    resolved: r.resolved,
    overdue: r.overdue,
    resolved_late: r.resolved_late,
    resolution_rate: percent(r.resolved, r.total),
    avg_resolution_hours: r.avg_resolution_hours === null ? null : round(r.avg_resolution_hours),
    avg_satisfaction: r.avg_satisfaction === null ? null : round(r.avg_satisfaction),
    rated: r.rated,
  };
}

/** Statistics of the records created in the window (start_date/end_date), or of all records without one. */
export async function recordStatistics(
  q: RecordQueries,
  projectId: string,
  query: { start_date?: string | undefined; end_date?: string | undefined; timezone: string; top: number },
  now = Date.now(),
) {
  const ranged = query.start_date !== undefined || query.end_date !== undefined;
  const r = ranged
    ? resolveRange({ start_date: query.start_date ?? '1970-01-01', end_date: query.end_date }, { tz: query.timezone, defaultDays: 1, maxDays: 100_000 })
    : { start: '1970-01-01', end: '1970-01-01' };
  const args = { project: projectId, ranged: ranged ? 1 : 0, tz: query.timezone, start: r.start, end: r.end };
  const [[totals], dist, assignees] = await Promise.all([q.totals({ ...args, now }), q.distribution(args), q.assignees({ ...args, now, top: query.top })]);
  const t = recordStatsOut(totals ?? NO_RECORDS);
  return {
    ...(ranged ? { start_date: r.start, end_date: r.end, timezone: query.timezone } : {}),
    ...t,
    by_status: distribution(dist, 'status', t.total),
    by_priority: distribution(dist, 'priority', t.total),
    by_assignee: assignees.map((a) => ({ assignee: a.who, ...recordStatsOut(a) })),
  };
}
