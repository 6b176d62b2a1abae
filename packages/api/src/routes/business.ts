import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { bizQuery, bizRows, text, inDates } from '../analytics/biz';
import { cached, TTL } from '../analytics/cached';
import { DEFAULT_ANALYTICS_OPTIONS, type AnalyticsOptions } from '../analytics/options';
import { bucketEnd, dateParam, intParam, percent, periodParam, PERIODS, resolvePeriodRange, resolveRange, round, timezoneParam, todayIn, type DateRange, type Period } from '../analytics/dates';
import { route, type AnyRoute } from '../http/route';
import type { QueryCache } from '../query/cache';

/**
 * Business statistics of the requirements (/api/analytics-monitoring/analytics/...)
 * over the biz_* tables the ETL keeps in ClickHouse. Every statement reads
 * `<table> FINAL WHERE project_id = {project:String} AND is_deleted = 0`
 * (bizRows): the caller's project, each row once, in its latest version.
 */

const num = z.coerce.number();
/** avg* of no rows is nan, sent as null or "nan". */
const maybeNum = z.union([z.number(), z.string(), z.null()]).transform((v) => (v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v)));
const share = z.object({ value: z.string(), count: z.number(), percent: z.number().nullable() });
const project = z.string();

// Answers (response schemas): what the handlers below return, documented in /openapi.json.
const n = z.number();
const nn = z.number().nullable();
const partial = z.literal(true).optional().describe('the window cuts this period, or it contains today (still filling)');
const orderShare = z.object({ value: z.string(), orders: n, orders_percent: nn, amount: n, amount_percent: nn });
const revenuePoint = z.object({ date: z.string(), orders: n, revenue: n, partial });
const recordStatsSchema = { total: n, open: n, resolved: n, overdue: n, resolved_late: n, resolution_rate: nn, avg_resolution_hours: nn, avg_satisfaction: nn, rated: n };
const userEntry = z.object({ user_id: z.string(), org_id: z.string(), role_id: z.string(), login_count: n, last_login_at: z.string() });
const orgBand = z.object({ value: z.string(), organizations: n, percent: nn, employees: n });

/** Group expression of a timestamp column per period, in {tz:String}. */
function bucketSql(period: Period, column: string): string {
  const day = `toDate(${column}, {tz:String})`;
  return { day, week: `toMonday(${day})`, month: `toStartOfMonth(${day})` }[period];
}

/** Decimal text (sum of Decimal(14,2)) as integer cents, so sums in JS stay exact. */
const cents = (s: string): number => Math.round(Number(s) * 100);
const money = (c: number): number => c / 100;

const DIST_ROW = z.object({ dimension: z.string(), value: z.string(), count: num });
function distribution(rows: z.output<typeof DIST_ROW>[], dimension: string, total: number): z.output<typeof share>[] {
  return rows.filter((r) => r.dimension === dimension).map((r) => ({ value: r.value, count: r.count, percent: percent(r.count, total) }));
}

const rangeQuery = {
  start_date: dateParam.optional().describe('first day (YYYY-MM-DD, in timezone); default: see the endpoint'),
  end_date: dateParam.optional().describe('last day, inclusive (YYYY-MM-DD); default today'),
  timezone: timezoneParam,
};

/**
 * The window of a per-period series: the buckets are whole periods (a week
 * from Monday, a month from the 1st) but the rows counted are exactly those of
 * start_date..end_date, so the series' totals equal any other figure of the
 * same window (the Orders and Revenue panels of a page agree). A bucket the
 * window cuts, or one that contains today (still filling), is `partial`.
 */
function periodWindow(
  q: { start_date?: string | undefined; end_date?: string | undefined },
  period: Period,
  opts: { tz: string; defaultBuckets: number; maxBuckets: number },
): { window: DateRange; buckets: string[]; partial: (bucket: string) => boolean } {
  const r = resolvePeriodRange(q, period, opts);
  const window = resolveRange({ start_date: q.start_date ?? r.start, end_date: q.end_date ?? todayIn(opts.tz) }, { tz: opts.tz, defaultDays: 1, maxDays: 100_000 });
  const today = todayIn(opts.tz);
  const partial = (bucket: string): boolean => bucket < window.start || bucketEnd(bucket, period) > window.end || (bucket <= today && today <= bucketEnd(bucket, period));
  return { window, buckets: r.buckets, partial };
}

export function businessRoutes(deps: { clickhouse: ClickHouse; cache: QueryCache; options?: Pick<AnalyticsOptions, 'businessCurrency' | 'netOrderStatuses'> }): AnyRoute[] {
  const ch = deps.clickhouse;
  const currency = deps.options?.businessCurrency ?? DEFAULT_ANALYTICS_OPTIONS.businessCurrency;
  const netStatuses = deps.options?.netOrderStatuses ?? DEFAULT_ANALYTICS_OPTIONS.netOrderStatuses;
  const base = '/api/analytics-monitoring/analytics';

  // --- customers -------------------------------------------------------------
  const customerDims = ['type', 'source', 'channel', 'region', 'industry', 'size'] as const;
  const customerDistribution = bizQuery(ch, {
    name: 'analytics.customers.distribution',
    sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count
          FROM (SELECT ${customerDims.map((d) => `${text(d)} AS c_${d}`).join(', ')} FROM ${bizRows('customers')})
          ARRAY JOIN [${customerDims.map((d) => `tuple('${d}', c_${d})`).join(', ')}] AS kv
          GROUP BY dimension, value
          ORDER BY dimension, count DESC, value
          LIMIT {top:UInt32} BY dimension`,
    params: z.object({ project, top: z.number().int() }),
    row: DIST_ROW,
  });
  const customerTotals = bizQuery(ch, {
    name: 'analytics.customers.totals',
    sql: `SELECT count() AS total, countIf(created_at >= fromUnixTimestamp64Milli({now:Int64}) - toIntervalDay({days:UInt32})) AS new_customers
          FROM ${bizRows('customers')}`,
    params: z.object({ project, now: z.number().int(), days: z.number().int() }),
    row: z.object({ total: num, new_customers: num }),
  });
  const activeCustomers = bizQuery(ch, {
    name: 'analytics.customers.active',
    sql: `SELECT uniqExact(customer_id) AS active FROM ${bizRows('serviceRecords')}
          AND created_at >= fromUnixTimestamp64Milli({now:Int64}) - toIntervalDay({days:UInt32})`,
    params: z.object({ project, now: z.number().int(), days: z.number().int() }),
    row: z.object({ active: num }),
  });
  // The same two figures over calendar days start..end in tz: what a page with a date window shows next to its charts.
  const customerTotalsIn = bizQuery(ch, {
    name: 'analytics.customers.totals_in',
    sql: `SELECT count() AS total, countIf(${inDates('created_at')}) AS new_customers FROM ${bizRows('customers')}`,
    params: z.object({ project, tz: z.string(), start: z.string(), end: z.string() }),
    row: z.object({ total: num, new_customers: num }),
  });
  const activeCustomersIn = bizQuery(ch, {
    name: 'analytics.customers.active_in',
    sql: `SELECT uniqExact(customer_id) AS active FROM ${bizRows('serviceRecords')} AND ${inDates('created_at')}`,
    params: z.object({ project, tz: z.string(), start: z.string(), end: z.string() }),
    row: z.object({ active: num }),
  });
  const customerTrend = Object.fromEntries(
    PERIODS.map((p) => [
      p,
      bizQuery(ch, {
        name: `analytics.customers.trend.${p}`,
        sql: `SELECT toString(${bucketSql(p, 'created_at')}) AS bucket, count() AS count FROM ${bizRows('customers')} AND ${inDates('created_at')} GROUP BY bucket`,
        params: z.object({ project, tz: z.string(), start: z.string(), end: z.string() }),
        row: z.object({ bucket: z.string(), count: num }),
      }),
    ]),
  ) as Record<Period, (p: { project: string; tz: string; start: string; end: string }) => Promise<{ bucket: string; count: number }[]>>;
  const customersBefore = bizQuery(ch, {
    name: 'analytics.customers.before',
    sql: `SELECT count() AS count FROM ${bizRows('customers')} AND created_at < toDateTime({start:Date}, {tz:String})`,
    params: z.object({ project, tz: z.string(), start: z.string() }),
    row: z.object({ count: num }),
  });

  // --- orders ----------------------------------------------------------------
  const orderDistribution = bizQuery(ch, {
    name: 'analytics.orders.summary',
    sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count, ifNull(toString(sum(o_amount)), '0') AS amount
          FROM (SELECT ${text('status')} AS o_status, ${text('service_type')} AS o_service_type, ${text('product_category')} AS o_product_category, amount AS o_amount
                FROM ${bizRows('orders')} AND ${inDates('created_at')})
          ARRAY JOIN [tuple('status', o_status), tuple('service_type', o_service_type), tuple('product_category', o_product_category)] AS kv
          GROUP BY dimension, value
          ORDER BY dimension, count DESC, value`,
    params: z.object({ project, tz: z.string(), start: z.string(), end: z.string() }),
    row: z.object({ dimension: z.string(), value: z.string(), count: num, amount: z.string() }),
  });
  const REVENUE_BY = ['none', 'service_type', 'product_category'] as const;
  const revenueRow = z.object({ bucket: z.string(), grp: z.string(), st: z.string(), orders: num, revenue: z.string() });
  const revenueQueries = new Map<string, (p: { project: string; tz: string; start: string; end: string }) => Promise<z.output<typeof revenueRow>[]>>();
  for (const p of PERIODS) {
    for (const by of REVENUE_BY) {
      revenueQueries.set(
        `${p}:${by}`,
        bizQuery(ch, {
          name: `analytics.orders.revenue.${p}.${by}`,
          // Grouped by status too: gross (every status), net and a custom status list are all sums of these rows.
          sql: `SELECT toString(${bucketSql(p, 'created_at')}) AS bucket, ${by === 'none' ? "''" : text(by)} AS grp, ${text('status')} AS st,
                       count() AS orders, ifNull(toString(sum(amount)), '0') AS revenue
                FROM ${bizRows('orders')} AND ${inDates('created_at')}
                GROUP BY bucket, grp, st`,
          params: z.object({ project, tz: z.string(), start: z.string(), end: z.string() }),
          row: revenueRow,
        }),
      );
    }
  }

  // --- service records -------------------------------------------------------
  const recordFilter = `({ranged:UInt8} = 0 OR ${inDates('created_at')})`;
  const recordParams = z.object({ project, now: z.number().int(), ranged: z.number().int(), tz: z.string(), start: z.string(), end: z.string() });
  const recordStats = `count() AS total,
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
  const recordTotals = bizQuery(ch, {
    name: 'analytics.service_records.totals',
    sql: `SELECT ${recordStats} FROM ${bizRows('serviceRecords')} AND ${recordFilter}`,
    params: recordParams,
    row: z.object(statsRow),
  });
  const recordDistribution = bizQuery(ch, {
    name: 'analytics.service_records.distribution',
    sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count
          FROM (SELECT ${text('status')} AS r_status, ${text('priority')} AS r_priority FROM ${bizRows('serviceRecords')} AND ${recordFilter})
          ARRAY JOIN [tuple('status', r_status), tuple('priority', r_priority)] AS kv
          GROUP BY dimension, value ORDER BY dimension, count DESC, value`,
    params: recordParams.omit({ now: true }),
    row: DIST_ROW,
  });
  const recordAssignees = bizQuery(ch, {
    name: 'analytics.service_records.assignees',
    sql: `SELECT ${text('assignee')} AS who, ${recordStats} FROM ${bizRows('serviceRecords')} AND ${recordFilter}
          GROUP BY who ORDER BY total DESC, who LIMIT {top:UInt32}`,
    params: recordParams.extend({ top: z.number().int() }),
    row: z.object({ who: z.string(), ...statsRow }),
  });

  // --- users, organizations, roles -------------------------------------------
  const userSummary = bizQuery(ch, {
    name: 'analytics.users.summary',
    sql: `WITH fromUnixTimestamp64Milli({now:Int64}) AS n
          SELECT count() AS users, sum(ifNull(login_count, 0)) AS logins, countIf(last_login_at IS NULL) AS never,
                 countIf(last_login_at >= n - INTERVAL 1 DAY) AS dau, countIf(last_login_at >= n - INTERVAL 7 DAY) AS wau,
                 countIf(last_login_at >= n - INTERVAL 30 DAY) AS mau, countIf(last_login_at >= n - INTERVAL 90 DAY) AS active_90d,
                 countIf(created_at >= n - INTERVAL 30 DAY) AS new_users_30d
          FROM ${bizRows('users')}`,
    params: z.object({ project, now: z.number().int() }),
    row: z.object({ users: num, logins: num, never: num, dau: num, wau: num, mau: num, active_90d: num, new_users_30d: num }),
  });
  // Aliases never repeat a column name: ClickHouse resolves aliases in WHERE and ORDER BY too.
  const userRow = z
    .object({ u_id: z.string(), u_org: z.string(), u_role: z.string(), u_logins: num, u_last: z.string() })
    .transform((r) => ({ user_id: r.u_id, org_id: r.u_org, role_id: r.u_role, login_count: r.u_logins, last_login_at: r.u_last }));
  const userList = (order: string, name: string) =>
    bizQuery(ch, {
      name,
      sql: `SELECT toString(user_id) AS u_id, ${text('org_id')} AS u_org, ${text('role_id')} AS u_role, ifNull(login_count, 0) AS u_logins,
                   ifNull(formatDateTime(last_login_at, '%Y-%m-%dT%H:%i:%SZ', 'UTC'), '') AS u_last
            FROM ${bizRows('users')} AND last_login_at IS NOT NULL ORDER BY ${order}, u_id LIMIT {limit:UInt32}`,
      params: z.object({ project, limit: z.number().int() }),
      row: userRow,
    });
  const recentLogins = userList('last_login_at DESC', 'analytics.users.recent');
  const mostActive = userList('u_logins DESC, last_login_at DESC', 'analytics.users.most_active');

  const orgDistribution = bizQuery(ch, {
    name: 'analytics.organizations.distribution',
    sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count, sum(o_employees) AS employees
          FROM (SELECT ${text('type')} AS o_type, ifNull(employees, 0) AS o_employees,
                       multiIf(employees IS NULL, 'unknown', employees < 1, '0', employees <= 10, '1-10', employees <= 50, '11-50',
                               employees <= 200, '51-200', employees <= 1000, '201-1000', '1001+') AS o_size
                FROM ${bizRows('organizations')})
          ARRAY JOIN [tuple('type', o_type), tuple('size', o_size)] AS kv
          GROUP BY dimension, value ORDER BY dimension, count DESC, value`,
    params: z.object({ project }),
    row: DIST_ROW.extend({ employees: num }),
  });
  const topOrgs = bizQuery(ch, {
    name: 'analytics.organizations.top',
    sql: `SELECT toString(o.org_id) AS g_id, ${text('o.name')} AS g_name, ${text('o.type')} AS g_type, ifNull(o.employees, 0) AS g_employees, u.n AS g_users
          FROM (SELECT org_id, name, type, employees FROM ${bizRows('organizations')}) AS o
          LEFT JOIN (SELECT org_id, count() AS n FROM ${bizRows('users')} GROUP BY org_id) AS u ON o.org_id = u.org_id
          ORDER BY g_users DESC, g_employees DESC, g_id LIMIT {top:UInt32}`,
    params: z.object({ project, top: z.number().int() }),
    row: z
      .object({ g_id: z.string(), g_name: z.string(), g_type: z.string(), g_employees: num, g_users: num })
      .transform((r) => ({ org_id: r.g_id, name: r.g_name, type: r.g_type, employees: r.g_employees, users: r.g_users })),
  });
  const orgUsers = bizQuery(ch, {
    name: 'analytics.organizations.users',
    sql: `SELECT count() AS users, uniqExact(org_id) AS orgs_with_users FROM ${bizRows('users')}`,
    params: z.object({ project }),
    row: z.object({ users: num, orgs_with_users: num }),
  });
  const roleNames = bizQuery(ch, {
    name: 'analytics.roles.names',
    sql: `SELECT toString(role_id) AS rid, ${text('name')} AS role_name FROM ${bizRows('roles')}`,
    params: z.object({ project }),
    row: z.object({ rid: z.string(), role_name: z.string() }),
  });
  const roleUsers = bizQuery(ch, {
    name: 'analytics.roles.users',
    sql: `SELECT ${text('role_id')} AS rid, count() AS users FROM ${bizRows('users')} GROUP BY rid`,
    params: z.object({ project }),
    row: z.object({ rid: z.string(), users: num }),
  });

  const recordStatsOut = (r: z.output<z.ZodObject<typeof statsRow>>) => ({
    total: r.total,
    open: r.open,
    resolved: r.resolved,
    overdue: r.overdue,
    resolved_late: r.resolved_late,
    resolution_rate: percent(r.resolved, r.total),
    avg_resolution_hours: r.avg_resolution_hours === null ? null : round(r.avg_resolution_hours),
    avg_satisfaction: r.avg_satisfaction === null ? null : round(r.avg_satisfaction),
    rated: r.rated,
  });

  return [
    route({
      method: 'get',
      path: `${base}/customers/summary`,
      summary: 'Customers: total; by type, source, channel, region, industry and size; new and active (with a service record) in the last N days',
      tag: 'analytics',
      auth: 'read',
      query: z.object({
        days: intParam(1, 3650, 30).describe('window of "new" and "active" customers, in days back from now (default 30)'),
        start_date: dateParam.optional().describe('with end_date: count new and active customers over these calendar days instead of `days` (the window of the other business statistics)'),
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
        ...Object.fromEntries(customerDims.map((d) => [`by_${d}`, z.array(share)])),
      }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'customers.summary', query, TTL.business, async () => {
          const now = Date.now();
          const p = principal.projectId;
          const ranged = query.start_date !== undefined || query.end_date !== undefined;
          const r = ranged ? resolveRange(query, { tz: query.timezone, defaultDays: query.days, maxDays: 3660 }) : null;
          const win = r ? { project: p, tz: query.timezone, start: r.start, end: r.end } : null;
          const [dist, [totals], [active]] = await Promise.all([
            customerDistribution({ project: p, top: query.top }),
            win ? customerTotalsIn(win) : customerTotals({ project: p, now, days: query.days }),
            win ? activeCustomersIn(win) : activeCustomers({ project: p, now, days: query.days }),
          ]);
          const total = totals?.total ?? 0;
          const days = r ? r.days : query.days;
          return {
            ...(r ? { start_date: r.start, end_date: r.end, timezone: query.timezone } : {}),
            total,
            new_customers: { days, count: totals?.new_customers ?? 0 },
            active_customers: { days, count: active?.active ?? 0, percent: percent(active?.active ?? 0, total) },
            ...Object.fromEntries(customerDims.map((d) => [`by_${d}`, distribution(dist, d, total)])),
          };
        });
      },
    }),
    route({
      method: 'get',
      path: `${base}/customers/trend`,
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
        return cached(deps.cache, ctx, principal.projectId, 'customers.trend', query, TTL.business, async () => {
          const w = periodWindow(query, query.period, { tz: query.timezone, defaultBuckets: query.period === 'day' ? 30 : 12, maxBuckets: 1000 });
          const args = { project: principal.projectId, tz: query.timezone, start: w.window.start };
          const [rows, [before]] = await Promise.all([customerTrend[query.period]({ ...args, end: w.window.end }), customersBefore(args)]);
          const byBucket = new Map(rows.map((x) => [x.bucket, x.count]));
          let running = before?.count ?? 0;
          const points = w.buckets.map((date) => {
            const n = byBucket.get(date) ?? 0;
            running += n;
            return { date, new_customers: n, total_customers: running, ...(w.partial(date) ? { partial: true as const } : {}) };
          });
          return { period: query.period, timezone: query.timezone, start_date: w.window.start, end_date: w.window.end, customers_before: before?.count ?? 0, points };
        });
      },
    }),
    route({
      method: 'get',
      path: `${base}/orders/summary`,
      summary: 'Orders created in a date range: count, amount, average; by status, service type and product category with shares',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        start_date: z.string(),
        end_date: z.string(),
        timezone: z.string(),
        currency: z.string(),
        net_statuses: z.array(z.string()),
        total_orders: n,
        total_amount: n,
        avg_order_amount: nn,
        gross_revenue: n,
        net_orders: n,
        net_revenue: n,
        avg_net_order_amount: nn,
        by_status: z.array(orderShare),
        by_service_type: z.array(orderShare),
        by_product_category: z.array(orderShare),
      }),
      query: z.object({ ...rangeQuery, start_date: dateParam.optional().describe('first day (YYYY-MM-DD); default 29 days before end_date') }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'orders.summary', query, TTL.business, async () => {
          const r = resolveRange(query, { tz: query.timezone, defaultDays: 30, maxDays: 3660 });
          const rows = await orderDistribution({ project: principal.projectId, tz: query.timezone, start: r.start, end: r.end });
          const of = (d: string) => rows.filter((x) => x.dimension === d).map((x) => ({ value: x.value, orders: x.count, cents: cents(x.amount) }));
          const statuses = of('status');
          const orders = statuses.reduce((n, x) => n + x.orders, 0);
          const amount = statuses.reduce((n, x) => n + x.cents, 0);
          const shares = (d: string) =>
            of(d).map((x) => ({ value: x.value, orders: x.orders, orders_percent: percent(x.orders, orders), amount: money(x.cents), amount_percent: percent(x.cents, amount) }));
          const net = statuses.filter((x) => netStatuses.includes(x.value));
          const netOrders = net.reduce((n, x) => n + x.orders, 0);
          const netCents = net.reduce((n, x) => n + x.cents, 0);
          return {
            start_date: r.start,
            end_date: r.end,
            timezone: query.timezone,
            currency,
            net_statuses: netStatuses,
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
        });
      },
    }),
    route({
      method: 'get',
      path: `${base}/orders/revenue`,
      summary: 'Net or gross revenue and order count per day, week or month over exactly the date window; optionally split by service type or product category or limited to statuses',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        period: z.enum(PERIODS),
        by: z.enum(REVENUE_BY),
        revenue_kind: z.enum(['net', 'gross', 'custom']),
        statuses: z.array(z.string()),
        currency: z.string(),
        timezone: z.string(),
        start_date: z.string(),
        end_date: z.string(),
        total_orders: n,
        total_revenue: n,
        gross_orders: n,
        gross_revenue: n,
        net_orders: n,
        net_revenue: n,
        points: z.array(revenuePoint),
        groups: z.array(z.object({ value: z.string(), orders: n, revenue: n, revenue_percent: nn, points: z.array(revenuePoint) })).optional().describe('with by other than none'),
      }),
      query: z.object({
        period: periodParam.default('day').describe('day | week | month'),
        by: z.enum(REVENUE_BY).default('none').describe('none | service_type | product_category'),
        revenue: z.enum(['net', 'gross']).default('net').describe('net: orders in the net statuses (BUSINESS_NET_ORDER_STATUSES, default paid,completed); gross: every order whatever its status'),
        status: z
          .string()
          .max(2000)
          .regex(/^[^,]+(,[^,]+)*$/, 'comma-separated order statuses')
          .optional()
          .describe('only orders in these statuses, comma-separated (e.g. paid,completed); overrides `revenue`'),
        ...rangeQuery,
        start_date: dateParam.optional().describe('first day counted (the first point is its whole period, marked partial when the window cuts it); default: 30 days, 12 weeks or 12 months back'),
      }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'orders.revenue', query, TTL.business, async () => {
          const w = periodWindow(query, query.period, { tz: query.timezone, defaultBuckets: query.period === 'day' ? 30 : 12, maxBuckets: 1000 });
          const custom = query.status ? query.status.split(',').map((s) => s.trim()) : null;
          const kind = custom ? 'custom' : query.revenue;
          const statuses = custom ?? (query.revenue === 'net' ? netStatuses : []);
          const all = await revenueQueries.get(`${query.period}:${query.by}`)!({ project: principal.projectId, tz: query.timezone, start: w.window.start, end: w.window.end });
          const counted = (x: { st: string }): boolean => statuses.length === 0 || statuses.includes(x.st);
          const rows = all.filter(counted);
          const total = (list: typeof all) => ({ orders: list.reduce((n, x) => n + x.orders, 0), cents: list.reduce((n, x) => n + cents(x.revenue), 0) });
          const sum = (list: typeof rows) => {
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
            return { ...total(list), points };
          };
          const sel = sum(rows);
          const groups =
            query.by === 'none'
              ? undefined
              : [...new Set(rows.map((x) => x.grp))]
                  .map((value) => {
                    const g = sum(rows.filter((x) => x.grp === value));
                    return { value, orders: g.orders, revenue: money(g.cents), revenue_percent: percent(g.cents, sel.cents), cents: g.cents, points: g.points };
                  })
                  .sort((a, b) => b.cents - a.cents || a.value.localeCompare(b.value))
                  .map(({ cents: _c, ...g }) => g);
          const gross = total(all);
          const net = total(all.filter((x) => netStatuses.includes(x.st)));
          return {
            period: query.period,
            by: query.by,
            revenue_kind: kind,
            statuses,
            currency,
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
        });
      },
    }),
    route({
      method: 'get',
      path: `${base}/service-records/statistics`,
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
        return cached(deps.cache, ctx, principal.projectId, 'service_records.statistics', query, TTL.business, async () => {
          const ranged = query.start_date !== undefined || query.end_date !== undefined;
          const r = ranged ? resolveRange({ start_date: query.start_date ?? '1970-01-01', end_date: query.end_date }, { tz: query.timezone, defaultDays: 1, maxDays: 100_000 }) : { start: '1970-01-01', end: '1970-01-01' };
          const args = { project: principal.projectId, ranged: ranged ? 1 : 0, tz: query.timezone, start: r.start, end: r.end };
          const now = Date.now();
          const [[totals], dist, assignees] = await Promise.all([recordTotals({ ...args, now }), recordDistribution(args), recordAssignees({ ...args, now, top: query.top })]);
          const t = recordStatsOut(totals ?? { total: 0, open: 0, resolved: 0, overdue: 0, resolved_late: 0, avg_resolution_hours: null, avg_satisfaction: null, rated: 0 });
          return {
            ...(ranged ? { start_date: r.start, end_date: r.end, timezone: query.timezone } : {}),
            ...t,
            by_status: distribution(dist, 'status', t.total),
            by_priority: distribution(dist, 'priority', t.total),
            by_assignee: assignees.map((a) => ({ assignee: a.who, ...recordStatsOut(a) })),
          };
        });
      },
    }),
    route({
      method: 'get',
      path: `${base}/users/activity`,
      summary: 'User activity: logins, last login recency, DAU/WAU/MAU (users whose last login is within 1, 7, 30 days), most active and most recent users',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        total_users: n,
        total_logins: n,
        avg_logins_per_user: nn,
        never_logged_in: n,
        new_users_30d: n,
        dau: n,
        wau: n,
        mau: n,
        stickiness_percent: nn,
        last_login: z.array(z.object({ range: z.enum(['<1d', '1-7d', '7-30d', '30-90d', '>90d', 'never']), users: n })),
        most_active: z.array(userEntry),
        recent_logins: z.array(userEntry),
      }),
      query: z.object({ limit: intParam(1, 100, 10).describe('users in the most_active and recent_logins lists (default 10)') }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'users.activity', query, TTL.business, async () => {
          const p = principal.projectId;
          const [[s], recent, active] = await Promise.all([userSummary({ project: p, now: Date.now() }), recentLogins({ project: p, limit: query.limit }), mostActive({ project: p, limit: query.limit })]);
          const u = s ?? { users: 0, logins: 0, never: 0, dau: 0, wau: 0, mau: 0, active_90d: 0, new_users_30d: 0 };
          return {
            total_users: u.users,
            total_logins: u.logins,
            avg_logins_per_user: u.users > 0 ? round(u.logins / u.users) : null,
            never_logged_in: u.never,
            new_users_30d: u.new_users_30d,
            dau: u.dau,
            wau: u.wau,
            mau: u.mau,
            stickiness_percent: percent(u.dau, u.mau),
            last_login: [
              { range: '<1d', users: u.dau },
              { range: '1-7d', users: u.wau - u.dau },
              { range: '7-30d', users: u.mau - u.wau },
              { range: '30-90d', users: u.active_90d - u.mau },
              { range: '>90d', users: u.users - u.never - u.active_90d },
              { range: 'never', users: u.never },
            ],
            most_active: active,
            recent_logins: recent,
          };
        });
      },
    }),
    route({
      method: 'get',
      path: `${base}/organizations/summary`,
      summary: 'Organizations: count, employees, by type and size band, users per organization',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        total_organizations: n,
        total_employees: n,
        avg_employees: nn,
        total_users: n,
        organizations_with_users: n,
        by_type: z.array(orgBand),
        by_size: z.array(orgBand),
        top_organizations: z.array(z.object({ org_id: z.string(), name: z.string(), type: z.string(), employees: n, users: n })),
      }),
      query: z.object({ top: intParam(1, 1000, 10).describe('organizations listed, most users first (default 10)') }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'organizations.summary', query, TTL.business, async () => {
          const p = principal.projectId;
          const [dist, top, [users]] = await Promise.all([orgDistribution({ project: p }), topOrgs({ project: p, top: query.top }), orgUsers({ project: p })]);
          const types = dist.filter((x) => x.dimension === 'type');
          const orgs = types.reduce((n, x) => n + x.count, 0);
          const employees = types.reduce((n, x) => n + x.employees, 0);
          const band = (d: string) => dist.filter((x) => x.dimension === d).map((x) => ({ value: x.value, organizations: x.count, percent: percent(x.count, orgs), employees: x.employees }));
          return {
            total_organizations: orgs,
            total_employees: employees,
            avg_employees: orgs > 0 ? round(employees / orgs) : null,
            total_users: users?.users ?? 0,
            organizations_with_users: users?.orgs_with_users ?? 0,
            by_type: band('type'),
            by_size: band('size'),
            top_organizations: top,
          };
        });
      },
    }),
    route({
      method: 'get',
      path: `${base}/roles/distribution`,
      summary: 'Users per role (every role, also those without users; users of a role id not in the roles table are listed with a null name)',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        total_users: n,
        total_roles: n,
        roles: z.array(z.object({ role_id: z.string(), name: z.string().nullable(), users: n, percent: nn })),
      }),
      async handler({ principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'roles.distribution', {}, TTL.business, async () => {
          const p = principal.projectId;
          const [roles, users] = await Promise.all([roleNames({ project: p }), roleUsers({ project: p })]);
          const total = users.reduce((n, x) => n + x.users, 0);
          const byId = new Map(users.map((u) => [u.rid, u.users]));
          const out = roles.map((r) => ({ role_id: r.rid, name: r.role_name as string | null, users: byId.get(r.rid) ?? 0, percent: percent(byId.get(r.rid) ?? 0, total) }));
          const known = new Set(roles.map((r) => r.rid));
          for (const u of users) if (!known.has(u.rid)) out.push({ role_id: u.rid, name: null, users: u.users, percent: percent(u.users, total) });
          out.sort((a, b) => b.users - a.users || a.role_id.localeCompare(b.role_id));
          return { total_users: total, total_roles: roles.length, roles: out };
        });
      },
    }),
  ];
}
