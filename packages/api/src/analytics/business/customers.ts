import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { bizQuery, bizRows, inDates, text } from '../biz';
import { percent, resolveRange, type Period } from '../dates';
import { bucketSql, dayWindowParams, distribution, DIST_ROW, num, project, seriesWindow, type Share } from './common';

/** Customers (biz_customers_v1): totals, distributions, new and active customers, the trend of new ones. */

export const CUSTOMER_DIMS = ['type', 'source', 'channel', 'region', 'industry', 'size'] as const;
export type CustomerDim = (typeof CUSTOMER_DIMS)[number];

const totalsRow = z.object({ total: num, new_customers: num });
const activeRow = z.object({ active: num });
const sinceParams = z.object({ project, now: z.number().int(), days: z.number().int() });

export function customerQueries(ch: ClickHouse) {
  const trend = (p: Period) =>
    bizQuery(ch, {
      name: `analytics.customers.trend.${p}`,
      sql: `SELECT toString(${bucketSql(p, 'created_at')}) AS bucket, count() AS count FROM ${bizRows('customers')} AND ${inDates('created_at')} GROUP BY bucket`,
      params: dayWindowParams,
      row: z.object({ bucket: z.string(), count: num }),
    });
  return {
    distribution: bizQuery(ch, {
      name: 'analytics.customers.distribution',
      sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count
            FROM (SELECT ${CUSTOMER_DIMS.map((d) => `${text(d)} AS c_${d}`).join(', ')} FROM ${bizRows('customers')})
            ARRAY JOIN [${CUSTOMER_DIMS.map((d) => `tuple('${d}', c_${d})`).join(', ')}] AS kv
            GROUP BY dimension, value
            ORDER BY dimension, count DESC, value
            LIMIT {top:UInt32} BY dimension`,
      params: z.object({ project, top: z.number().int() }),
      row: DIST_ROW,
    }),
    totals: bizQuery(ch, {
      name: 'analytics.customers.totals',
      sql: `SELECT count() AS total, countIf(created_at >= fromUnixTimestamp64Milli({now:Int64}) - toIntervalDay({days:UInt32})) AS new_customers
            FROM ${bizRows('customers')}`,
      params: sinceParams,
      row: totalsRow,
    }),
    active: bizQuery(ch, {
      name: 'analytics.customers.active',
      sql: `SELECT uniqExact(customer_id) AS active FROM ${bizRows('serviceRecords')}
            AND created_at >= fromUnixTimestamp64Milli({now:Int64}) - toIntervalDay({days:UInt32})`,
      params: sinceParams,
      row: activeRow,
    }),
    // The same two figures over calendar days start..end in tz: what a page with a date window shows next to its charts.
    totalsIn: bizQuery(ch, {
      name: 'analytics.customers.totals_in',
      sql: `SELECT count() AS total, countIf(${inDates('created_at')}) AS new_customers FROM ${bizRows('customers')}`,
      params: dayWindowParams,
      row: totalsRow,
    }),
    activeIn: bizQuery(ch, {
      name: 'analytics.customers.active_in',
      sql: `SELECT uniqExact(customer_id) AS active FROM ${bizRows('serviceRecords')} AND ${inDates('created_at')}`,
      params: dayWindowParams,
      row: activeRow,
    }),
    trend: { day: trend('day'), week: trend('week'), month: trend('month') } satisfies Record<Period, unknown>,
    before: bizQuery(ch, {
      name: 'analytics.customers.before',
      sql: `SELECT count() AS count FROM ${bizRows('customers')} AND created_at < toDateTime({start:Date}, {tz:String})`,
      params: z.object({ project, tz: z.string(), start: z.string() }),
      row: z.object({ count: num }),
    }),
  };
}
export type CustomerQueries = ReturnType<typeof customerQueries>;

export interface CustomerSummaryRequest {
  days: number;
  start_date?: string | undefined;
  end_date?: string | undefined;
  timezone: string;
  top: number;
}

/**
 * Totals and distributions; new and active customers either over the last
 * `days` days (rolling) or, with start_date or end_date, over those calendar days.
 */
export async function customerSummary(q: CustomerQueries, projectId: string, query: CustomerSummaryRequest, now = Date.now()) {
  const ranged = query.start_date !== undefined || query.end_date !== undefined;
  const r = ranged ? resolveRange(query, { tz: query.timezone, defaultDays: query.days, maxDays: 3660 }) : null;
  const win = r ? { project: projectId, tz: query.timezone, start: r.start, end: r.end } : null;
  const [dist, [totals], [active]] = await Promise.all([
    q.distribution({ project: projectId, top: query.top }),
    win ? q.totalsIn(win) : q.totals({ project: projectId, now, days: query.days }),
    win ? q.activeIn(win) : q.active({ project: projectId, now, days: query.days }),
  ]);
  const total = totals?.total ?? 0;
  const days = r ? r.days : query.days;
  const byDim: Record<string, Share[]> = Object.fromEntries(CUSTOMER_DIMS.map((d) => [`by_${d}`, distribution(dist, d, total)]));
  return {
    ...(r ? { start_date: r.start, end_date: r.end, timezone: query.timezone } : {}),
    total,
    new_customers: { days, count: totals?.new_customers ?? 0 },
    active_customers: { days, count: active?.active ?? 0, percent: percent(active?.active ?? 0, total) },
    ...byDim,
  };
}

/** New customers per bucket of the window, with the running total (customers created before the window included). */
export async function customerTrend(
  q: CustomerQueries,
  projectId: string,
  query: { period: Period; start_date?: string | undefined; end_date?: string | undefined; timezone: string },
) {
  const w = seriesWindow(query, query.period);
  const args = { project: projectId, tz: query.timezone, start: w.window.start };
  const [rows, [before]] = await Promise.all([q.trend[query.period]({ ...args, end: w.window.end }), q.before(args)]);
  const byBucket = new Map(rows.map((x) => [x.bucket, x.count]));
  let running = before?.count ?? 0;
  const points = w.buckets.map((date) => {
    const n = byBucket.get(date) ?? 0;
    running += n;
    return { date, new_customers: n, total_customers: running, ...(w.partial(date) ? { partial: true as const } : {}) };
  });
  return { period: query.period, timezone: query.timezone, start_date: w.window.start, end_date: w.window.end, customers_before: before?.count ?? 0, points };
}
