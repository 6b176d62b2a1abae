/**
 * Business: customers, orders, revenue and service records, from the
 * business tables the ETL keeps in ClickHouse (biz_*), through the business
 * statistics routes. Before the ETL has created a table those routes answer
 * 404 BUSINESS_DATA_MISSING: that is shown as "no data yet", not as a failure.
 */
import { AM, get, type ApiAnswer, type ApiError } from '../api';
import { hasValues, timeChart } from '../chart';
import { barList, h, stat } from '../dom';
import { fmtCompact, fmtInt, fmtMoney, fmtNum, fmtPct } from '../format';
import { pick, withParams } from '../router';
import type { View } from '../view';

const PERIODS = ['day', 'week', 'month'] as const;
const DAYS = ['7', '30', '90', '365'] as const;
const BASE = `${AM}/analytics`;

// The answers' shapes, from the types generated from the API's OpenAPI document.
type Analytics = '/api/analytics-monitoring/analytics';
type CustomersSummary = ApiAnswer<`${Analytics}/customers/summary`, 'get'>;
type OrdersSummary = ApiAnswer<`${Analytics}/orders/summary`, 'get'>;
type Revenue = ApiAnswer<`${Analytics}/orders/revenue`, 'get'>;
type Trend = ApiAnswer<`${Analytics}/customers/trend`, 'get'>;
type Records = ApiAnswer<`${Analytics}/service-records/statistics`, 'get'>;

/** A business day "YYYY-MM-DD" as local midnight (chart x values). */
const dayMs = (d: string): number => {
  const [y, m, day] = d.split('-').map(Number);
  return new Date(y!, (m ?? 1) - 1, day ?? 1).getTime();
};

/** YYYY-MM-DD of a date in the browser's zone, `back` days ago. */
export function isoDay(back = 0, now = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - back);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** One-line definitions (the same as docs/api.md), shown on hover. */
export const DEFINITIONS = {
  customersTotal: 'Customers: every current (not deleted) customer row of biz_customers_v1, whatever the window.',
  customersNew: 'New: customers whose created_at is within the window.',
  customersActive: 'Active: distinct customers with a service record created within the window.',
  ordersTotal: 'Orders: orders created within the window, every status.',
  grossRevenue: 'Gross revenue: sum of amount of every order created within the window, whatever its status (pending, cancelled and refunded too).',
  netRevenue:
    'Net revenue: sum of amount of the orders created within the window whose status is one of BUSINESS_NET_ORDER_STATUSES (default paid, completed).',
  netOrders: 'Net orders: orders created within the window in a net status.',
  avgNetOrder: 'Average net order: net revenue / net orders.',
  recordsTotal: 'Records: service records created within the window.',
  recordsOpen: 'Open: records of the window without resolved_at.',
  recordsOverdue: 'Overdue: open records whose due_at has passed.',
  recordsResolved: 'Resolved: resolved records / records of the window, in percent.',
  recordsResolution: 'Avg resolution: mean hours from created_at to resolved_at of the resolved records.',
  recordsSatisfaction: 'Satisfaction: mean rating (1-5) of the rated records.',
} as const;

/** "(the last <period> is still filling)" under a chart whose last point is partial. */
const partialNote = (points: { partial?: true }[], period: string): HTMLElement | null =>
  points.length > 0 && points[points.length - 1]!.partial
    ? h('p', { class: 'muted chart-note', 'data-partial': 'true' }, `The last ${period} is still filling; cut periods at the edges of the window are partial.`)
    : null;

const missing = (err: ApiError) =>
  err.code === 'BUSINESS_DATA_MISSING'
    ? {
        message: 'No business data yet',
        hint: h('span', null, err.message, '. Start with ', h('code', null, '--demo'), ' for the demo source, or configure the ETL (docs/etl.md).'),
      }
    : null;

export function businessPage(v: View): void {
  const period = pick(v.params, 'period', PERIODS, 'day');
  const days = Number(pick(v.params, 'days', DAYS, '30'));
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  // One window for every figure and chart of the page: the same first and last day go to every call.
  const win = { start_date: isoDay(days - 1), end_date: isoDay(0), timezone };
  const periodSel = h('select', { name: 'period', id: 'ctl-period' }, ...PERIODS.map((p) => h('option', { value: p }, `By ${p}`)));
  periodSel.value = period;
  const daysSel = h('select', { name: 'days', id: 'ctl-days' }, ...DAYS.map((d) => h('option', { value: d }, `Last ${d} days`)));
  daysSel.value = String(days);
  const apply = (): void =>
    v.go(withParams(v.params, { period: periodSel.value === 'day' ? null : periodSel.value, days: daysSel.value === '30' ? null : daysSel.value }));
  periodSel.addEventListener('change', apply);
  daysSel.addEventListener('change', apply);
  v.root.append(
    h('h1', { class: 'page-title' }, 'Business'),
    h(
      'section',
      { class: 'panel panel-controls' },
      h(
        'div',
        { class: 'controls' },
        h('label', { class: 'ctl' }, h('span', null, 'Window'), daysSel),
        h('label', { class: 'ctl' }, h('span', null, 'Charts'), periodSel),
      ),
    ),
  );

  const customers = v.panel({
    id: 'customers',
    title: 'Customers',
    load: (signal) => get<CustomersSummary>(`${BASE}/customers/summary`, { ...win, top: 8 }, signal),
    render: (r) =>
      r.total === 0
        ? null
        : h(
            'div',
            null,
            h(
              'div',
              { class: 'stats' },
              stat('customers.total', 'Customers', r.total, fmtInt(r.total), { definition: DEFINITIONS.customersTotal }),
              stat('customers.new', `New, ${days} days`, r.new_customers.count, fmtInt(r.new_customers.count), { definition: DEFINITIONS.customersNew }),
              stat('customers.active', `Active, ${days} days`, r.active_customers.count, fmtInt(r.active_customers.count), {
                hint: `${fmtPct(r.active_customers.percent)} of all`,
                definition: DEFINITIONS.customersActive,
              }),
            ),
            h('h3', null, 'By type'),
            barList(
              'customers-by-type',
              r.by_type.map((s) => ({ label: s.value, value: s.count, text: `${fmtInt(s.count)} · ${fmtPct(s.percent)}` })),
            ),
            h('h3', null, 'By channel'),
            barList(
              'customers-by-channel',
              r.by_channel.map((s) => ({ label: s.value, value: s.count, text: `${fmtInt(s.count)} · ${fmtPct(s.percent)}` })),
            ),
          ),
    empty: { message: 'No customers yet' },
    emptyOnError: missing,
  });

  const trend = v.panel({
    id: 'customers-trend',
    title: `New customers per ${period}`,
    load: (signal) => get<Trend>(`${BASE}/customers/trend`, { period, ...win }, signal),
    render: (r) => {
      const series = [{ label: 'New customers', values: r.points.map((p) => p.new_customers), color: '#7c3aed' }];
      return hasValues(series) && r.points.some((p) => p.new_customers > 0)
        ? h(
            'div',
            { 'data-total': r.points.reduce((n, p) => n + p.new_customers, 0) },
            timeChart({ id: 'customers-trend', xs: r.points.map((p) => dayMs(p.date)), series, bars: true, format: fmtInt, height: 200 }),
            partialNote(r.points, period),
          )
        : null;
    },
    empty: { message: 'No new customers in this window' },
    emptyOnError: missing,
  });

  const orders = v.panel({
    id: 'orders',
    title: `Orders, last ${days} days`,
    load: (signal) => get<OrdersSummary>(`${BASE}/orders/summary`, win, signal),
    render: (r) =>
      r.total_orders === 0
        ? null
        : h(
            'div',
            null,
            h(
              'div',
              { class: 'stats' },
              stat('orders.total', 'Orders', r.total_orders, fmtInt(r.total_orders), { definition: DEFINITIONS.ordersTotal }),
              stat('orders.gross', `Gross revenue (${r.currency})`, r.gross_revenue, `${fmtCompact(r.gross_revenue)} ${r.currency}`, {
                hint: fmtMoney(r.gross_revenue, r.currency),
                definition: DEFINITIONS.grossRevenue,
              }),
              stat('orders.net', `Net revenue (${r.currency})`, r.net_revenue, `${fmtCompact(r.net_revenue)} ${r.currency}`, {
                hint: `${fmtMoney(r.net_revenue, r.currency)} · ${r.net_statuses.join(', ')}`,
                definition: DEFINITIONS.netRevenue,
              }),
              stat('orders.net_orders', 'Net orders', r.net_orders, fmtInt(r.net_orders), { definition: DEFINITIONS.netOrders }),
              stat(
                'orders.avg',
                `Average net order (${r.currency})`,
                r.net_orders > 0 ? Math.round((r.net_revenue / r.net_orders) * 100) / 100 : null,
                r.net_orders > 0 ? fmtMoney(r.net_revenue / r.net_orders, r.currency) : '—',
                { definition: DEFINITIONS.avgNetOrder },
              ),
            ),
            h('h3', null, 'By status'),
            barList(
              'orders-by-status',
              r.by_status.map((s) => ({ label: s.value, value: s.orders, text: `${fmtInt(s.orders)} · ${fmtCompact(s.amount)} ${r.currency}` })),
            ),
          ),
    empty: { message: `No orders in the last ${days} days` },
    emptyOnError: missing,
  });

  const revenue = v.panel({
    id: 'revenue',
    title: `Net revenue per ${period}, last ${days} days`,
    load: (signal) => get<Revenue>(`${BASE}/orders/revenue`, { period, revenue: 'net', ...win }, signal),
    render: (r) => {
      const series = [{ label: `Net revenue (${r.currency})`, values: r.points.map((p) => p.revenue), color: '#16a34a', fill: true }];
      if (!hasValues(series) || r.gross_orders === 0) return null;
      return h(
        'div',
        null,
        h(
          'div',
          { class: 'stats' },
          stat('revenue.total', `Net revenue (${r.currency})`, r.total_revenue, `${fmtCompact(r.total_revenue)} ${r.currency}`, {
            hint: fmtMoney(r.total_revenue, r.currency),
            definition: DEFINITIONS.netRevenue,
          }),
          stat('revenue.orders', 'Net orders', r.total_orders, fmtInt(r.total_orders), { definition: DEFINITIONS.netOrders }),
          stat('revenue.gross', `Gross revenue (${r.currency})`, r.gross_revenue, `${fmtCompact(r.gross_revenue)} ${r.currency}`, {
            hint: `${fmtInt(r.gross_orders)} orders`,
            definition: DEFINITIONS.grossRevenue,
          }),
        ),
        timeChart({ id: 'revenue', xs: r.points.map((p) => dayMs(p.date)), series, format: (x) => `${fmtCompact(x)} ${r.currency}`, height: 200 }),
        partialNote(r.points, period),
      );
    },
    empty: { message: 'No revenue in this window' },
    emptyOnError: missing,
  });

  const records = v.panel({
    id: 'service-records',
    title: `Service records created, last ${days} days`,
    load: (signal) => get<Records>(`${BASE}/service-records/statistics`, { ...win, top: 10 }, signal),
    render: (r) =>
      r.total === 0
        ? null
        : h(
            'div',
            null,
            h(
              'div',
              { class: 'stats' },
              stat('records.total', 'Records', r.total, fmtInt(r.total), { definition: DEFINITIONS.recordsTotal }),
              stat('records.open', 'Open', r.open, fmtInt(r.open), { definition: DEFINITIONS.recordsOpen }),
              stat('records.overdue', 'Overdue', r.overdue, fmtInt(r.overdue), {
                tone: r.overdue > 0 ? 'warn' : 'good',
                definition: DEFINITIONS.recordsOverdue,
              }),
              stat('records.resolution_rate', 'Resolved', r.resolution_rate, fmtPct(r.resolution_rate), { definition: DEFINITIONS.recordsResolved }),
              stat(
                'records.avg_resolution_hours',
                'Avg resolution',
                r.avg_resolution_hours,
                r.avg_resolution_hours === null ? '—' : `${fmtNum(r.avg_resolution_hours, 1)} h`,
                { definition: DEFINITIONS.recordsResolution },
              ),
              stat('records.avg_satisfaction', 'Satisfaction', r.avg_satisfaction, r.avg_satisfaction === null ? '—' : `${fmtNum(r.avg_satisfaction, 2)} / 5`, {
                hint: `${fmtInt(r.rated)} rated`,
                definition: DEFINITIONS.recordsSatisfaction,
              }),
            ),
            h('h3', null, 'By priority'),
            barList(
              'records-by-priority',
              r.by_priority.map((s) => ({ label: s.value, value: s.count, text: `${fmtInt(s.count)} · ${fmtPct(s.percent)}` })),
            ),
          ),
    empty: { message: 'No service records yet' },
    emptyOnError: missing,
  });
  v.root.append(h('div', { class: 'grid grid-2' }, customers.el, trend.el, orders.el, revenue.el), records.el);
  v.every(60_000, () => v.refreshAll());
}
