/**
 * Business statistics (/api/analytics-monitoring/analytics/...) over biz_*
 * tables holding known data with a history: older versions, rows landed
 * twice and deleted keys must not count. Every expected number is computed
 * here from the generated current state; a second project's rows (marker
 * secret_b) never show.
 */
import { ClickHouse, MemoryStore } from '@tidemark/core';
import { QueryCache } from '../src/query/cache';
import { businessRoutes } from '../src/routes/business';
import { createBizTables, chTs, DAY, HOUR, landBizData, rng, type BizData, type Row } from './fixtures/biz';
import { countBy, localDate, pct, round2, shiftDate, startApi, type ApiEnv } from './helpers';

let env: ApiEnv;
const NOW = Date.now();
/** An instant k and a half days ago: at least 12 hours from every rolling-window edge. */
const ago = (k: number): number => NOW - (k + 0.5) * DAY;
const TZ = 'Asia/Shanghai';
const A = '/api/analytics-monitoring/analytics';

const r = rng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

// --- the current state -------------------------------------------------------
const customers = Array.from({ length: 300 }, (_, i) => ({
  customer_id: i + 1,
  name: `c${i + 1}`,
  type: pick(['person', 'person', 'company']),
  source: pick(['web', 'referral', 'ads', null]),
  channel: pick(['app', 'wechat', 'phone']),
  region: pick(['north', 'south', 'east', 'west', null]),
  industry: pick(['retail', 'tech', 'health']),
  size: pick(['small', 'medium', 'large', null]),
  created: ago(int(0, 399)),
}));
const orders = Array.from({ length: 1500 }, (_, i) => ({
  order_id: i + 1,
  customer_id: int(1, 300),
  status: pick(['paid', 'paid', 'completed', 'cancelled', 'refunded']),
  service_type: pick(['repair', 'install', 'consulting', null]),
  product_category: pick(['bike', 'battery', 'parts']),
  cents: int(100, 500_000),
  created: ago(int(0, 120)),
}));
const records = Array.from({ length: 600 }, (_, i) => {
  const k = int(0, 90);
  const created = ago(k);
  const resolved = k >= 10 && r() < 0.6 ? created + int(1, 200) * HOUR : null;
  return {
    record_id: i + 1,
    customer_id: int(1, 300),
    status: resolved ? pick(['resolved', 'closed']) : pick(['open', 'in_progress']),
    priority: pick(['low', 'medium', 'high', 'urgent']),
    assignee: pick(['alice', 'bob', 'chen', 'dana', null]),
    created,
    due: r() < 0.8 ? created + int(1, 30) * DAY : null,
    resolved,
    satisfaction: resolved && r() < 0.7 ? int(1, 5) : null,
  };
});
const organizations = Array.from({ length: 20 }, (_, i) => ({
  org_id: i + 1,
  name: `org${i + 1}`,
  type: pick(['company', 'school', 'government']),
  employees: i % 7 === 0 ? null : pick([0, 5, 10, 11, 50, 51, 200, 201, 1000, 1001, 5000]),
}));
const roles = [1, 2, 3, 4, 5].map((id) => ({ role_id: id, name: ['admin', 'agent', 'manager', 'viewer', 'auditor'][id - 1]! }));
const users = Array.from({ length: 200 }, (_, i) => ({
  user_id: i + 1,
  org_id: i % 11 === 0 ? null : i % 13 === 0 ? 999 : int(1, 20),
  role_id: i % 17 === 0 ? null : i % 19 === 0 ? 99 : int(1, 4),
  login_count: int(0, 500),
  last: r() < 0.15 ? null : ago(int(0, 120)),
  created: ago(int(0, 400)),
}));
// Rows deleted in the source: present in an old version, then a tombstone.
const deadCustomer = {
  customer_id: 10_001,
  name: 'gone',
  type: 'person',
  source: 'web',
  channel: 'app',
  region: 'north',
  industry: 'tech',
  size: 'small',
  created: ago(1),
};
const deadOrder = { order_id: 10_001, customer_id: 1, status: 'paid', service_type: 'repair', product_category: 'bike', cents: 123_456, created: ago(15) };

const toCustomer = (c: (typeof customers)[number]): Row => ({ ...c, created: undefined, created_at: chTs(c.created), updated_at: chTs(NOW) });
const toOrder = (o: (typeof orders)[number]): Row => ({
  ...o,
  cents: undefined,
  created: undefined,
  amount: (o.cents / 100).toFixed(2),
  created_at: chTs(o.created),
  updated_at: chTs(NOW),
});
const toRecord = (x: (typeof records)[number]): Row => ({
  record_id: x.record_id,
  customer_id: x.customer_id,
  status: x.status,
  priority: x.priority,
  assignee: x.assignee,
  created_at: chTs(x.created),
  due_at: x.due === null ? null : chTs(x.due),
  resolved_at: x.resolved === null ? null : chTs(x.resolved),
  satisfaction: x.satisfaction,
  updated_at: chTs(NOW),
});
const toUser = (u: (typeof users)[number]): Row => ({
  user_id: u.user_id,
  org_id: u.org_id,
  role_id: u.role_id,
  login_count: u.login_count,
  last_login_at: u.last === null ? null : chTs(u.last),
  created_at: chTs(u.created),
  updated_at: chTs(NOW),
});
const clean = (row: Row): Row => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined));

const data: BizData = {
  customers: customers.map(toCustomer).map(clean),
  orders: orders.map(toOrder).map(clean),
  records: records.map(toRecord),
  users: users.map(toUser),
  organizations,
  roles,
};

/** What an older version looked like: values that would show if it were counted. */
function oldVersion(table: keyof BizData, row: Row): Row {
  switch (table) {
    case 'customers':
      return { ...row, type: 'old_type', region: 'old_region', created_at: chTs(ago(2)) };
    case 'orders':
      return { ...row, status: 'old_status', amount: '99999.99', service_type: 'old_service' };
    case 'records':
      return { ...row, status: 'old_status', assignee: 'old_assignee', resolved_at: null, due_at: chTs(ago(3)) };
    case 'users':
      return { ...row, login_count: 100_000, last_login_at: chTs(ago(0)), role_id: 4 };
    case 'organizations':
      return { ...row, type: 'old_type', employees: 77_777 };
    default:
      return { ...row, name: 'old_role_name' };
  }
}

const secret = (n: string) => `secret_b_${n}`;
const secretData: BizData = {
  customers: [clean(toCustomer({ ...customers[0]!, type: secret('type'), region: secret('region') }))],
  orders: [clean(toOrder({ ...orders[0]!, status: secret('status'), service_type: secret('service'), product_category: secret('category') }))],
  records: [toRecord({ ...records[0]!, status: secret('status'), assignee: secret('assignee') })],
  users: [toUser({ ...users[1]!, role_id: 1 })],
  organizations: [{ org_id: 1, name: secret('org'), type: secret('type'), employees: 3 }],
  roles: [{ role_id: 1, name: secret('role') }],
};

beforeAll(async () => {
  env = await startApi();
  await createBizTables(env.stack.ch);
  await landBizData(env.stack.ch, env.stack.project, data, { customers: [clean(toCustomer(deadCustomer))], orders: [clean(toOrder(deadOrder))] }, oldVersion);
  await landBizData(env.stack.ch, env.other.project, secretData, {}, (_t, row) => row);
}, 120_000);

afterAll(async () => {
  await env?.close();
});

const shares = (list: { value: string; count: number }[], total: number) => list.map((x) => ({ ...x, percent: pct(x.count, total) }));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

describe('customers', () => {
  test('summary: totals, every dimension, new and active customers; history and deletes do not count', async () => {
    const res = await env.get(`${A}/customers/summary?days=30&top=100`);
    expect(res.status).toBe(200);
    const total = customers.length;
    expect(res.json.total).toBe(total);
    for (const d of ['type', 'source', 'channel', 'region', 'industry', 'size'] as const) {
      expect({ d, v: res.json[`by_${d}`] }).toEqual({
        d,
        v: shares(
          countBy(customers, (c) => str(c[d])),
          total,
        ),
      });
    }
    expect(res.json.new_customers).toEqual({ days: 30, count: customers.filter((c) => c.created >= NOW - 30 * DAY).length });
    const active = new Set(records.filter((x) => x.created >= NOW - 30 * DAY).map((x) => x.customer_id)).size;
    expect(res.json.active_customers).toEqual({ days: 30, count: active, percent: pct(active, total) });
    expect(res.text).not.toMatch(/old_|secret_b/);
    // With a date window (what the Business page sends): new and active over exactly those calendar days.
    const from = shiftDate(localDate(NOW, TZ), -44);
    const to = localDate(NOW, TZ);
    const win = await env.get(`${A}/customers/summary?start_date=${from}&end_date=${to}&timezone=${encodeURIComponent(TZ)}`);
    const inWin = (t: number) => localDate(t, TZ) >= from && localDate(t, TZ) <= to;
    const activeWin = new Set(records.filter((x) => inWin(x.created)).map((x) => x.customer_id)).size;
    expect(win.json).toMatchObject({
      start_date: from,
      end_date: to,
      total,
      new_customers: { days: 45, count: customers.filter((c) => inWin(c.created)).length },
      active_customers: { days: 45, count: activeWin },
    });
    // top limits each dimension's list.
    const top = await env.get(`${A}/customers/summary?top=2`);
    expect(top.json.by_region).toEqual(
      shares(
        countBy(customers, (c) => str(c.region)),
        total,
      ).slice(0, 2),
    );
  });

  test.each(['day', 'week', 'month'] as const)('trend per %s in a time zone, with the running total', async (period) => {
    const res = await env.get(`${A}/customers/trend?period=${period}&timezone=${encodeURIComponent(TZ)}&start_date=${shiftDate(localDate(NOW, TZ), -100)}`);
    expect(res.status).toBe(200);
    const bucket = (date: string): string => {
      if (period === 'day') return date;
      if (period === 'month') return `${date.slice(0, 7)}-01`;
      const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
      return shiftDate(date, -((dow + 6) % 7));
    };
    // The window is exactly the days asked for; the first point is labelled with its whole period.
    const from = shiftDate(localDate(NOW, TZ), -100);
    const first = bucket(from);
    expect(res.json.start_date).toBe(from);
    const byBucket = countBy(
      customers.filter((c) => localDate(c.created, TZ) >= from),
      (c) => bucket(localDate(c.created, TZ)),
    );
    const before = customers.filter((c) => localDate(c.created, TZ) < from).length;
    expect(res.json.customers_before).toBe(before);
    const points: { date: string; new_customers: number; total_customers: number }[] = res.json.points;
    expect(points[0]!.date).toBe(first);
    // A period the window cuts, and the one still filling (today), are marked partial.
    expect((points[0] as { partial?: boolean }).partial).toBe(first < from ? true : undefined);
    expect((points[points.length - 1] as { partial?: boolean }).partial).toBe(true);
    // Every bucket is there (zeros too), in order, and the numbers add up.
    for (const p of points) expect(p.new_customers).toBe(byBucket.find((b) => b.value === p.date)?.count ?? 0);
    expect(points.reduce((n, p) => n + p.new_customers, 0)).toBe(customers.length - before);
    expect(points[points.length - 1]!.total_customers).toBe(customers.length);
    expect(new Set(points.map((p) => p.date)).size).toBe(points.length);
  });

  test('bad input is a 400 naming the field', async () => {
    const period = await env.get(`${A}/customers/trend?period=year`);
    expect(period.status).toBe(400);
    expect(period.json.error.message).toMatch(/query\.period/);
    const date = await env.get(`${A}/customers/trend?start_date=2025-02-30`);
    expect(date.status).toBe(400);
    expect(date.json.error.context.issues[0].path).toBe('query.start_date');
    const order = await env.get(`${A}/orders/summary?start_date=2025-03-02&end_date=2025-03-01`);
    expect(order.status).toBe(400);
    expect(order.json.error.context.issues[0].path).toBe('query.end_date');
    const tz = await env.get(`${A}/orders/summary?timezone=Mars/Olympus`);
    expect(tz.status).toBe(400);
    expect(tz.json.error.message).toMatch(/query\.timezone/);
    const ancient = await env.get(`${A}/orders/summary?start_date=1900-01-01`);
    expect(ancient.status).toBe(400);
    expect(ancient.json.error.message).toMatch(/query\.start_date: a date from 1970-01-01/);
    const span = await env.get(`${A}/customers/trend?period=day&start_date=2000-01-01`);
    expect(span.status).toBe(400);
    expect(span.json.error.message).toMatch(/query\.start_date: the range may span at most 1000 days/);
  });
});

describe('orders', () => {
  const start = shiftDate(localDate(NOW, TZ), -59);
  const end = shiftDate(localDate(NOW, TZ), -10);
  const inRange = orders.filter((o) => localDate(o.created, TZ) >= start && localDate(o.created, TZ) <= end);

  test('summary of a date range: counts, exact amounts, shares per status, service type and category', async () => {
    const res = await env.get(`${A}/orders/summary?start_date=${start}&end_date=${end}&timezone=${encodeURIComponent(TZ)}`);
    expect(res.status).toBe(200);
    const cents = inRange.reduce((n, o) => n + o.cents, 0);
    expect(res.json).toMatchObject({
      start_date: start,
      end_date: end,
      total_orders: inRange.length,
      total_amount: cents / 100,
      avg_order_amount: round2(cents / inRange.length / 100),
    });
    // Gross counts every order; net only the paid and completed ones (the default BUSINESS_NET_ORDER_STATUSES); amounts name their currency.
    const net = inRange.filter((o) => ['paid', 'completed'].includes(o.status));
    expect(res.json).toMatchObject({
      currency: 'USD',
      net_statuses: ['paid', 'completed'],
      gross_revenue: cents / 100,
      net_orders: net.length,
      net_revenue: net.reduce((n, o) => n + o.cents, 0) / 100,
    });
    expect(res.json.net_revenue).toBeLessThan(res.json.gross_revenue);
    for (const d of ['status', 'service_type', 'product_category'] as const) {
      const expected = countBy(inRange, (o) => str(o[d])).map((g) => {
        const c = inRange.filter((o) => str(o[d]) === g.value).reduce((n, o) => n + o.cents, 0);
        return { value: g.value, orders: g.count, orders_percent: pct(g.count, inRange.length), amount: c / 100, amount_percent: pct(c, cents) };
      });
      expect({ d, v: res.json[`by_${d}`] }).toEqual({ d, v: expected });
    }
    expect(res.text).not.toMatch(/old_|secret_b|1234\.56/);
  });

  test('revenue per week by service type, limited to statuses', async () => {
    const res = await env.get(
      `${A}/orders/revenue?period=week&by=service_type&status=paid,completed&start_date=${start}&end_date=${end}&timezone=${encodeURIComponent(TZ)}`,
    );
    expect(res.status).toBe(200);
    const monday = (date: string) => shiftDate(date, -((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7));
    // Exactly the window asked for (as orders/summary counts it); points are labelled by their Monday and cut weeks are partial.
    expect([res.json.start_date, res.json.end_date]).toEqual([start, end]);
    const sel = orders.filter((o) => ['paid', 'completed'].includes(o.status) && localDate(o.created, TZ) >= start && localDate(o.created, TZ) <= end);
    const cents = sel.reduce((n, o) => n + o.cents, 0);
    expect(res.json.total_orders).toBe(sel.length);
    expect(res.json.total_revenue).toBe(cents / 100);
    expect(res.json.statuses).toEqual(['paid', 'completed']);
    for (const p of res.json.points) {
      const week = sel.filter((o) => monday(localDate(o.created, TZ)) === p.date);
      const cut = p.date < start || shiftDate(p.date, 6) > end;
      expect(p).toEqual({ date: p.date, orders: week.length, revenue: week.reduce((n, o) => n + o.cents, 0) / 100, ...(cut ? { partial: true } : {}) });
    }
    expect(res.json.groups.map((g: { value: string }) => g.value).sort()).toEqual([...new Set(sel.map((o) => str(o.service_type)))].sort());
    for (const g of res.json.groups) {
      const mine = sel.filter((o) => str(o.service_type) === g.value);
      const c = mine.reduce((n, o) => n + o.cents, 0);
      expect({ orders: g.orders, revenue: g.revenue, revenue_percent: g.revenue_percent }).toEqual({
        orders: mine.length,
        revenue: c / 100,
        revenue_percent: pct(c, cents),
      });
      expect(g.points.reduce((n: number, p: { orders: number }) => n + p.orders, 0)).toBe(mine.length);
    }
    const revs = res.json.groups.map((g: { revenue: number }) => g.revenue);
    expect(revs).toEqual([...revs].sort((a, b) => b - a));
  });

  test('revenue per month without a split: net by default, gross on request, both equal to the summary of the same window', async () => {
    const res = await env.get(`${A}/orders/revenue?period=month`);
    expect(res.status).toBe(200);
    expect(res.json.points).toHaveLength(12);
    expect(res.json.groups).toBeUndefined();
    expect(res.json).toMatchObject({ revenue_kind: 'net', statuses: ['paid', 'completed'], currency: 'USD' });
    const from = res.json.start_date as string;
    const sel = orders.filter((o) => localDate(o.created, 'UTC') >= from);
    const net = sel.filter((o) => ['paid', 'completed'].includes(o.status));
    expect(res.json.total_orders).toBe(net.length);
    expect(res.json.total_revenue).toBe(net.reduce((n, o) => n + o.cents, 0) / 100);
    expect([res.json.gross_orders, res.json.gross_revenue]).toEqual([sel.length, sel.reduce((n, o) => n + o.cents, 0) / 100]);
    // Only the month still filling is partial.
    expect(res.json.points.map((p: { partial?: boolean }) => p.partial === true)).toEqual([...Array(11).fill(false), true]);
    const gross = await env.get(`${A}/orders/revenue?period=month&revenue=gross`);
    expect([gross.json.revenue_kind, gross.json.total_orders, gross.json.total_revenue]).toEqual([
      'gross',
      sel.length,
      sel.reduce((n, o) => n + o.cents, 0) / 100,
    ]);
    // The same window through orders/summary gives the same figures (the page's panels agree).
    const summary = await env.get(`${A}/orders/summary?start_date=${from}&end_date=${res.json.end_date}`);
    expect([summary.json.total_orders, summary.json.gross_revenue, summary.json.net_orders, summary.json.net_revenue]).toEqual([
      gross.json.total_orders,
      gross.json.total_revenue,
      res.json.total_orders,
      res.json.total_revenue,
    ]);
  });
});

describe('service records, users, organizations, roles', () => {
  const stats = (list: typeof records) => {
    const resolved = list.filter((x) => x.resolved !== null);
    const rated = list.filter((x) => x.satisfaction !== null);
    return {
      total: list.length,
      open: list.length - resolved.length,
      resolved: resolved.length,
      overdue: list.filter((x) => x.resolved === null && x.due !== null && x.due < NOW).length,
      resolved_late: resolved.filter((x) => x.due !== null && x.resolved! > x.due).length,
      resolution_rate: pct(resolved.length, list.length),
      avg_resolution_hours: resolved.length ? round2(resolved.reduce((n, x) => n + (x.resolved! - x.created) / HOUR, 0) / resolved.length) : null,
      avg_satisfaction: rated.length ? round2(rated.reduce((n, x) => n + x.satisfaction!, 0) / rated.length) : null,
      rated: rated.length,
    };
  };

  test('service-record statistics: open, overdue, resolution time, satisfaction; by status, priority and assignee', async () => {
    const res = await env.get(`${A}/service-records/statistics`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject(stats(records));
    expect(res.json.by_status).toEqual(
      shares(
        countBy(records, (x) => x.status),
        records.length,
      ),
    );
    expect(res.json.by_priority).toEqual(
      shares(
        countBy(records, (x) => x.priority),
        records.length,
      ),
    );
    expect(res.json.by_assignee).toEqual(
      countBy(records, (x) => str(x.assignee)).map((g) => ({ assignee: g.value, ...stats(records.filter((x) => str(x.assignee) === g.value)) })),
    );
    expect(res.text).not.toMatch(/old_|secret_b/);
    // A date range narrows to records created in it.
    const start = shiftDate(localDate(NOW, 'UTC'), -30);
    const ranged = await env.get(`${A}/service-records/statistics?start_date=${start}`);
    expect(ranged.json).toMatchObject({ start_date: start, ...stats(records.filter((x) => localDate(x.created, 'UTC') >= start)) });
    const until = await env.get(`${A}/service-records/statistics?end_date=${start}`);
    expect(until.json).toMatchObject({ start_date: '1970-01-01', end_date: start, ...stats(records.filter((x) => localDate(x.created, 'UTC') <= start)) });
  });

  test('user activity: logins, last-login recency, DAU/WAU/MAU, most active and most recent users', async () => {
    const res = await env.get(`${A}/users/activity?limit=5`);
    expect(res.status).toBe(200);
    const within = (days: number) => users.filter((u) => u.last !== null && u.last >= NOW - days * DAY).length;
    const never = users.filter((u) => u.last === null).length;
    const logins = users.reduce((n, u) => n + u.login_count, 0);
    expect(res.json).toMatchObject({
      total_users: users.length,
      total_logins: logins,
      avg_logins_per_user: round2(logins / users.length),
      never_logged_in: never,
      new_users_30d: users.filter((u) => u.created >= NOW - 30 * DAY).length,
      dau: within(1),
      wau: within(7),
      mau: within(30),
      stickiness_percent: pct(within(1), within(30)),
    });
    expect(res.json.last_login).toEqual([
      { range: '<1d', users: within(1) },
      { range: '1-7d', users: within(7) - within(1) },
      { range: '7-30d', users: within(30) - within(7) },
      { range: '30-90d', users: within(90) - within(30) },
      { range: '>90d', users: users.length - never - within(90) },
      { range: 'never', users: never },
    ]);
    const present = (u: (typeof users)[number]) => ({
      user_id: String(u.user_id),
      org_id: str(u.org_id),
      role_id: str(u.role_id),
      login_count: u.login_count,
      last_login_at: new Date(u.last!).toISOString().slice(0, 19) + 'Z',
    });
    const seen = users.filter((u) => u.last !== null);
    const byId = (a: (typeof users)[number], b: (typeof users)[number]) => (String(a.user_id) < String(b.user_id) ? -1 : 1);
    expect(res.json.recent_logins).toEqual(
      [...seen]
        .sort((a, b) => b.last! - a.last! || byId(a, b))
        .slice(0, 5)
        .map(present),
    );
    expect(res.json.most_active).toEqual(
      [...seen]
        .sort((a, b) => b.login_count - a.login_count || b.last! - a.last! || byId(a, b))
        .slice(0, 5)
        .map(present),
    );
  });

  test('organizations: employees, type and size bands, users per organization', async () => {
    const res = await env.get(`${A}/organizations/summary?top=5`);
    expect(res.status).toBe(200);
    const employees = organizations.reduce((n, o) => n + (o.employees ?? 0), 0);
    const band = (e: number | null) =>
      e === null ? 'unknown' : e < 1 ? '0' : e <= 10 ? '1-10' : e <= 50 ? '11-50' : e <= 200 ? '51-200' : e <= 1000 ? '201-1000' : '1001+';
    const bands = (key: (o: (typeof organizations)[number]) => string) =>
      countBy(organizations, key).map((g) => ({
        value: g.value,
        organizations: g.count,
        percent: pct(g.count, organizations.length),
        employees: organizations.filter((o) => key(o) === g.value).reduce((n, o) => n + (o.employees ?? 0), 0),
      }));
    expect(res.json).toMatchObject({
      total_organizations: organizations.length,
      total_employees: employees,
      avg_employees: round2(employees / organizations.length),
      total_users: users.length,
      organizations_with_users: new Set(users.filter((u) => u.org_id !== null).map((u) => u.org_id)).size,
    });
    expect(res.json.by_type).toEqual(bands((o) => o.type));
    expect(res.json.by_size).toEqual(bands((o) => band(o.employees)));
    const usersOf = (id: number) => users.filter((u) => u.org_id === id).length;
    const top = organizations
      .map((o) => ({ org_id: String(o.org_id), name: o.name, type: o.type, employees: o.employees ?? 0, users: usersOf(o.org_id) }))
      .sort((a, b) => b.users - a.users || b.employees - a.employees || (a.org_id < b.org_id ? -1 : 1))
      .slice(0, 5);
    expect(res.json.top_organizations).toEqual(top);
  });

  test('roles: users per role, roles without users, unknown and missing role ids', async () => {
    const res = await env.get(`${A}/roles/distribution`);
    expect(res.status).toBe(200);
    const expected = [
      ...roles.map((ro) => ({ role_id: String(ro.role_id), name: ro.name as string | null, users: users.filter((u) => u.role_id === ro.role_id).length })),
      { role_id: '99', name: null, users: users.filter((u) => u.role_id === 99).length },
      { role_id: '', name: null, users: users.filter((u) => u.role_id === null).length },
    ]
      .map((x) => ({ ...x, percent: pct(x.users, users.length) }))
      .sort((a, b) => b.users - a.users || (a.role_id < b.role_id ? -1 : 1));
    expect(res.json).toEqual({ total_users: users.length, total_roles: roles.length, roles: expected });
    expect(expected.find((x) => x.role_id === '5')!.users).toBe(0);
  });
});

describe('tenancy, cache and missing tables', () => {
  test('the other project sees only its own rows, through every business endpoint', async () => {
    const paths = [
      'customers/summary',
      'customers/trend',
      'orders/summary?start_date=2020-01-01',
      'orders/revenue?by=product_category',
      'service-records/statistics',
      'users/activity',
      'organizations/summary',
      'roles/distribution',
    ];
    for (const p of paths) {
      const mine = await env.get(`${A}/${p}`);
      expect({ p, status: mine.status, leaked: mine.text.includes('secret_b') }).toEqual({ p, status: 200, leaked: false });
    }
    const theirs = await env.get(`${A}/customers/summary`, env.other.read);
    expect(theirs.json.total).toBe(1);
    expect(theirs.json.by_type).toEqual([{ value: 'secret_b_type', count: 1, percent: 100 }]);
    const roles = await env.get(`${A}/roles/distribution`, env.other.read);
    expect(roles.json.roles).toEqual([{ role_id: '1', name: 'secret_b_role', users: 1, percent: 100 }]);
  });

  test('answers are cached per project and query; no-cache recomputes', async () => {
    const path = `${A}/roles/distribution`;
    await env.call('GET', path, env.stack.keys.read);
    const hit = await env.call('GET', path, env.stack.keys.read);
    expect(hit.headers['x-cache']).toBe('hit');
    expect((await env.get(path)).headers['x-cache']).toBe('miss');
    // Another project's identical request is not served from this project's entry.
    expect((await env.call('GET', path, env.other.read)).text).toContain('secret_b');
  });

  test('before the ETL created the tables: a 404 naming the table', async () => {
    const db = `${env.stack.database}_empty`;
    await env.stack.ch.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
    const empty = new ClickHouse({ ...env.stack.ch.options, database: db });
    try {
      const route = businessRoutes({ clickhouse: empty, cache: new QueryCache(new MemoryStore()) }).find((x) => x.path.endsWith('/orders/summary'))!;
      const ctx = { get: () => '', set: () => undefined } as never;
      await expect(
        route.handler({ query: { timezone: 'UTC' }, body: undefined, params: {}, principal: { keyId: '', projectId: env.stack.project, role: 'read' }, ctx }),
      ).rejects.toMatchObject({
        statusCode: 404,
        code: 'BUSINESS_DATA_MISSING',
        message: expect.stringMatching(/no table biz_orders_v1/),
      });
    } finally {
      await empty.close();
      await env.stack.ch.command(`DROP DATABASE IF EXISTS ${db}`);
    }
  });
});
