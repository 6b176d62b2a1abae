import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { bizQuery, bizRows, inDates, text } from '../biz';
import { percent, resolveRange, round, PERIODS, type Period } from '../dates';
import { bucketSql, cents, dayWindowParams, money, num, seriesWindow, type DayWindow } from './common';

/**
 * Orders (biz_orders_v1): counts and amounts by status, service type and
 * product category, and revenue per period. Amounts are summed in integer
 * cents (cents()), so totals stay exact; net revenue counts the orders in the
 * net statuses (BUSINESS_NET_ORDER_STATUSES), gross every order.
 */

export const REVENUE_BY = ['none', 'service_type', 'product_category'] as const;
export type RevenueBy = (typeof REVENUE_BY)[number];

const summaryRow = z.object({ dimension: z.string(), value: z.string(), count: num, amount: z.string() });
const revenueRow = z.object({ bucket: z.string(), grp: z.string(), st: z.string(), orders: num, revenue: z.string() });
type RevenueRow = z.output<typeof revenueRow>;

function revenueQuery(ch: ClickHouse, p: Period, by: RevenueBy) {
  return bizQuery(ch, {
    name: `analytics.orders.revenue.${p}.${by}`,
    // Grouped by status too: gross (every status), net and a custom status list are all sums of these rows.
    sql: `SELECT toString(${bucketSql(p, 'created_at')}) AS bucket, ${by === 'none' ? "''" : text(by)} AS grp, ${text('status')} AS st,
                 count() AS orders, ifNull(toString(sum(amount)), '0') AS revenue
          FROM ${bizRows('orders')} AND ${inDates('created_at')}
          GROUP BY bucket, grp, st`,
    params: dayWindowParams,
    row: revenueRow,
  });
}

export function orderQueries(ch: ClickHouse) {
  const revenue = new Map<string, (p: DayWindow) => Promise<RevenueRow[]>>();
  for (const p of PERIODS) for (const by of REVENUE_BY) revenue.set(`${p}:${by}`, revenueQuery(ch, p, by));
  return {
    distribution: bizQuery(ch, {
      name: 'analytics.orders.summary',
      sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count, ifNull(toString(sum(o_amount)), '0') AS amount
            FROM (SELECT ${text('status')} AS o_status, ${text('service_type')} AS o_service_type, ${text('product_category')} AS o_product_category, amount AS o_amount
                  FROM ${bizRows('orders')} AND ${inDates('created_at')})
            ARRAY JOIN [tuple('status', o_status), tuple('service_type', o_service_type), tuple('product_category', o_product_category)] AS kv
            GROUP BY dimension, value
            ORDER BY dimension, count DESC, value`,
      params: dayWindowParams,
      row: summaryRow,
    }),
    /** Revenue rows per (bucket, group, status) of one period and grouping. */
    revenue(period: Period, by: RevenueBy, p: DayWindow): Promise<RevenueRow[]> {
      const run = revenue.get(`${period}:${by}`);
      if (!run) throw new Error(`no revenue query for ${period}:${by}`);
      return run(p);
    },
  };
}
export type OrderQueries = ReturnType<typeof orderQueries>;

export interface OrderSettings {
  currency: string;
  netStatuses: readonly string[];
}

/** Orders created in the window: totals, gross and net revenue, shares by status, service type and product category. */
export async function ordersSummary(
  q: OrderQueries,
  projectId: string,
  query: { start_date?: string | undefined; end_date?: string | undefined; timezone: string },
  s: OrderSettings,
) {
  const r = resolveRange(query, { tz: query.timezone, defaultDays: 30, maxDays: 3660 });
  const rows = await q.distribution({ project: projectId, tz: query.timezone, start: r.start, end: r.end });
  const of = (d: string) => rows.filter((x) => x.dimension === d).map((x) => ({ value: x.value, orders: x.count, cents: cents(x.amount) }));
  const statuses = of('status');
  const orders = statuses.reduce((n, x) => n + x.orders, 0);
  const amount = statuses.reduce((n, x) => n + x.cents, 0);
  const shares = (d: string) =>
    of(d).map((x) => ({
      value: x.value,
      orders: x.orders,
      orders_percent: percent(x.orders, orders),
      amount: money(x.cents),
      amount_percent: percent(x.cents, amount),
    }));
  const net = statuses.filter((x) => s.netStatuses.includes(x.value));
  const netOrders = net.reduce((n, x) => n + x.orders, 0);
  const netCents = net.reduce((n, x) => n + x.cents, 0);
  return {
    start_date: r.start,
    end_date: r.end,
    timezone: query.timezone,
    currency: s.currency,
    net_statuses: [...s.netStatuses],
    total_orders: orders,
    total_amount: money(amount),
    avg_order_amount: orders > 0 ? round(amount / orders / 100) : null,
    gross_revenue: money(amount),
    net_orders: netOrders,
    net_revenue: money(netCents),
    avg_net_order_amount: netOrders > 0 ? round(netCents / netOrders / 100) : null,
    by_status: shares('status'),
    by_service_type: shares('service_type'),
    by_product_category: shares('product_category'),
  };
}

export interface RevenueRequest {
  period: Period;
  by: RevenueBy;
  revenue: 'net' | 'gross';
  status?: string | undefined;
  start_date?: string | undefined;
  end_date?: string | undefined;
  timezone: string;
}

const totalOf = (list: RevenueRow[]) => ({ orders: list.reduce((n, x) => n + x.orders, 0), cents: list.reduce((n, x) => n + cents(x.revenue), 0) });

/** Orders and revenue per bucket of the window (a bucket without rows is zero). */
function seriesOf(list: RevenueRow[], w: ReturnType<typeof seriesWindow>) {
  const byDate = new Map<string, { orders: number; cents: number }>();
  for (const x of list) {
    const e = byDate.get(x.bucket) ?? { orders: 0, cents: 0 };
    e.orders += x.orders;
    e.cents += cents(x.revenue);
    byDate.set(x.bucket, e);
  }
  const points = w.buckets.map((date) => ({
    date,
    orders: byDate.get(date)?.orders ?? 0,
    revenue: money(byDate.get(date)?.cents ?? 0),
    ...(w.partial(date) ? { partial: true as const } : {}),
  }));
  return { ...totalOf(list), points };
}

/** Per group value: its series and share of the selected revenue, largest first. */
function groupsOf(rows: RevenueRow[], w: ReturnType<typeof seriesWindow>, selectedCents: number) {
  return [...new Set(rows.map((x) => x.grp))]
    .map((value) => {
      const g = seriesOf(
        rows.filter((x) => x.grp === value),
        w,
      );
      return { value, orders: g.orders, revenue: money(g.cents), revenue_percent: percent(g.cents, selectedCents), cents: g.cents, points: g.points };
    })
    .sort((a, b) => b.cents - a.cents || a.value.localeCompare(b.value))
    .map(({ cents: _c, ...g }) => g);
}

/**
 * Revenue and order count per bucket over exactly the window: the selected
 * statuses (a custom list, the net statuses, or every status for gross),
 * optionally split by service type or product category; gross and net
 * totals alongside.
 */
export async function revenueSeries(q: OrderQueries, projectId: string, query: RevenueRequest, s: OrderSettings) {
  const w = seriesWindow(query, query.period);
  const custom = query.status ? query.status.split(',').map((x) => x.trim()) : null;
  const kind = custom ? 'custom' : query.revenue;
  const statuses = custom ?? (query.revenue === 'net' ? [...s.netStatuses] : []);
  const all = await q.revenue(query.period, query.by, { project: projectId, tz: query.timezone, start: w.window.start, end: w.window.end });
  const rows = all.filter((x) => statuses.length === 0 || statuses.includes(x.st));
  const sel = seriesOf(rows, w);
  const groups = query.by === 'none' ? undefined : groupsOf(rows, w, sel.cents);
  const gross = totalOf(all);
  const net = totalOf(all.filter((x) => s.netStatuses.includes(x.st)));
  return {
    period: query.period,
    by: query.by,
    revenue_kind: kind,
    statuses,
    currency: s.currency,
    timezone: query.timezone,
    start_date: w.window.start,
    end_date: w.window.end,
    total_orders: sel.orders,
    total_revenue: money(sel.cents),
    gross_orders: gross.orders,
    gross_revenue: money(gross.cents),
    net_orders: net.orders,
    net_revenue: money(net.cents),
    points: sel.points,
    ...(groups ? { groups } : {}),
  };
}
