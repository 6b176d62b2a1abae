/**
 * The query API against chDB over HTTP (platform user and read-only user) and
 * the real Postgres: rollup answers against the raw table, tenant isolation on
 * every route, SQL console escapes, log search, cache, OpenAPI.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { ClickHouse, createApiKey, createMetricsRegistry, ensureProject, MemoryStore } from '@tidemark/core';
import { AlertingService } from '@tidemark/alerting';
import { ClickHouseSink, normalizeBatch } from '@tidemark/collector';
import { apiRoutes, createApiApp, timeseriesRequest } from '../src';
import { aliases, fixedOffsetBucketStarts, plan, type ResolvedRange } from '../src/query/timeseries';
import type { IntervalName } from '../src/query/schema';
import { logger, startStack, type Stack } from '../../collector/test/harness';
import { createBizTables, landBizData, markerData } from './fixtures/biz';
import { alertingConfig, evaluateRules } from './helpers';
import { API_TEST_POSTGRES_MIGRATION_DIRS } from './migrations';

let stack: Stack;
let server: http.Server;
let url: string;
let readonly: ClickHouse;
let alerting: AlertingService;
let other: { project: string; read: string };
const HOUR = 3_600_000;
// A fixed, hour-aligned window two days ago, so buckets are complete and rollups answer.
const FROM = Math.floor((Date.now() - 2 * 86_400_000) / (6 * HOUR)) * 6 * HOUR;
const TO = FROM + 6 * HOUR;

async function call(method: string, path: string, key: string | undefined, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function ingest(project: string, signal: 'events' | 'metrics' | 'logs', items: unknown[]): Promise<void> {
  const sink = new ClickHouseSink(stack.ch, logger, { maxRows: 100_000, maxDelayMs: 5, maxPendingRows: 1_000_000, maxConcurrentFlushes: 1 });
  const b = normalizeBatch(
    signal,
    { items, errors: [] },
    { projectId: project, receivedAt: Date.now(), futureToleranceMs: 300_000, retentionMs: 90 * 86_400_000 },
  );
  if (b.rejected.length) throw new Error(JSON.stringify(b.rejected[0]));
  await sink.write(signal, b.rows, b.lines, b.warnings);
  await sink.close();
}

beforeAll(async () => {
  stack = await startStack({ postgresMigrationDirs: API_TEST_POSTGRES_MIGRATION_DIRS });
  readonly = new ClickHouse({ url: stack.server.url, ...stack.server.auth(true), database: stack.database });
  other = { project: `${stack.project}-b`, read: '' };
  await ensureProject(stack.meta, other.project);
  other.read = (await createApiKey(stack.meta, { projectId: other.project, role: 'read' })).key;

  const events = Array.from({ length: 3000 }, (_, i) => ({
    name: i % 3 === 0 ? 'checkout' : 'page_view',
    timestamp: FROM + ((i * 7_919) % (6 * HOUR)),
    distinct_id: `u${i % 120}`,
    session_id: `s${i % 400}`,
    properties: { duration_ms: (i % 500) + 0.5, plan: i % 2 ? 'pro' : 'free' },
    context: { product: 'chatbot', channel: i % 4 ? 'web' : 'app' },
  }));
  await ingest(stack.project, 'events', events);
  await ingest(other.project, 'events', [{ name: 'secret_b', timestamp: FROM + 1000, distinct_id: 'secret_b_user', properties: { duration_ms: 1 } }]);
  // The other project's business rows, AI tokens, installs and quality audits (analytics endpoints).
  await createBizTables(stack.ch);
  await landBizData(stack.ch, other.project, markerData('secret_b'), {}, (_t, row) => row);
  await ingest(other.project, 'events', [
    { name: 'llm.usage', timestamp: Date.now() - 60_000, properties: { model: 'secret_b_model', prompt_tokens: 10, completion_tokens: 5 } },
    { name: 'tidemark.install.heartbeat', timestamp: Date.now() - 60_000, properties: { install_id: 'secret_b', os: 'secret_b_os', version: 'secret_b_v' } },
  ]);
  await stack.meta.query(
    `INSERT INTO quality_audits (id, project_id, session_id, agent_id, score, status, audit_type, issues) VALUES (gen_random_uuid(), $1, 'secret_b', 'secret_b', 10, 'failed', 'auto', '["secret_b"]')`,
    [other.project],
  );
  await ingest(stack.project, 'logs', [
    {
      level: 'ERROR',
      service: 'payments',
      message: 'payment failed',
      attributes: { path: '/api/v1/payments/7', status_code: 500, process_time: 2.5 },
      timestamp: Date.now() - 60_000,
    },
    {
      level: 'INFO',
      service: 'payments',
      message: 'payment ok',
      attributes: { path: '/api/v1/payments/8', status_code: 200, process_time: 0.2 },
      timestamp: Date.now() - 50_000,
    },
    {
      level: 'ERROR',
      service: 'orders',
      message: 'order failed',
      attributes: { path: '/api/v1/orders/1', status_code: 500, process_time: 3 },
      timestamp: Date.now() - 40_000,
    },
  ]);
  await ingest(other.project, 'logs', [{ level: 'ERROR', service: 'payments', message: 'secret_b payment', timestamp: Date.now() - 30_000 }]);
  await ingest(stack.project, 'metrics', [
    { name: 'system_cpu_percent', value: 42, labels: { host: 'h1' } },
    { name: 'healthcheck_up', value: 1, labels: { target: 'http://svc-a', kind: 'http' } },
    { name: 'db_up', value: 1, labels: { db: 'main', kind: 'postgres' } },
  ]);
  await ingest(other.project, 'metrics', [
    { name: 'system_cpu_percent', value: 99, labels: { host: 'secret_b_host' } },
    { name: 'healthcheck_up', value: 0, labels: { target: 'http://secret_b', kind: 'http' } },
    { name: 'db_up', value: 0, labels: { db: 'secret_b_db', kind: 'postgres' } },
  ]);

  // The other project's alerting objects and ETL table: a rule, the alert it fires, a silence, a maintenance window.
  alerting = new AlertingService({ meta: stack.meta, readonly, config: alertingConfig(stack), logger });
  await alerting.createRule(other.project, {
    name: 'secret_b_rule',
    sql: "SELECT 'secret_b_host' AS host, 5 AS value",
    condition: { op: '>', threshold: 1 },
    interval: '1s',
  });
  expect(await evaluateRules({ config: alertingConfig(stack), meta: stack.meta, readonly, logger })).toBe(1);
  expect((await alerting.listActiveAlerts(other.project)).map((a) => a.labels.host)).toEqual(['secret_b_host']);
  const day = 86_400_000;
  await alerting.createSilence(other.project, {
    matchers: ['host="secret_b_host"'],
    ends_at: new Date(Date.now() + day),
    created_by: 'secret_b',
    comment: 'secret_b',
  });
  await alerting.createMaintenanceWindow(other.project, {
    name: 'secret_b window',
    ends_at: new Date(Date.now() + day),
    created_by: 'secret_b',
    comment: 'secret_b',
  });
  await stack.meta.query(
    `INSERT INTO etl_tables (table_key, source, source_schema, source_table, target_table, mode, project) VALUES ('secret_b.public.t', 'secret_b', 'public', 't', 'biz_secret_b', 'cursor', $1)`,
    [other.project],
  );

  const app = createApiApp({
    clickhouse: stack.ch,
    readonlyClickhouse: readonly,
    database: stack.database,
    meta: stack.meta,
    kv: new MemoryStore(),
    logger,
    metrics: createMetricsRegistry(),
    alerting,
  });
  server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await alerting?.close();
  await readonly?.close();
  await stack?.close();
});

const ts = (extra: Record<string, unknown>) => ({ range: { from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() }, interval: '1h', ...extra });

describe('time series', () => {
  test('counts and sums from the rollups equal the raw table exactly; uniques and quantiles within sketch error', async () => {
    const r = await call(
      'POST',
      '/api/v1/query/timeseries?cache=false',
      stack.keys.read,
      ts({ measures: [{ type: 'count' }, { type: 'unique_users' }], dimensions: ['name'] }),
    );
    expect(r.status).toBe(200);
    expect(r.json.meta).toMatchObject({ table: 'events_1h_v1', granularity: '1h', approximate: ['unique_users'] });
    const raw = await stack.rows<{ name: string; t: string; c: string; u: string }>(
      `SELECT name, toUnixTimestamp(toStartOfHour(timestamp)) * 1000 AS t, count() AS c, uniqExact(distinct_id) AS u FROM events_raw_v1
       WHERE project_id = {p:String} AND timestamp >= fromUnixTimestamp64Milli({f:Int64}) AND timestamp < fromUnixTimestamp64Milli({t:Int64}) GROUP BY name, t`,
      { p: stack.project, f: FROM, t: TO },
    );
    for (const row of raw) {
      const s = r.json.series.find((x: any) => x.dimensions.name === row.name);
      const p = s.points.find((x: any) => x.t === Number(row.t));
      expect(p.count).toBe(Number(row.c));
      expect(Math.abs(p.unique_users - Number(row.u)) / Number(row.u)).toBeLessThanOrEqual(0.02);
    }
    expect(r.json.series.flatMap((s: any) => s.points).reduce((n: number, p: any) => n + p.count, 0)).toBe(3000);

    const m = await call(
      'POST',
      '/api/v1/query/timeseries?cache=false',
      stack.keys.read,
      ts({
        measures: [
          { type: 'sum', field: 'duration_ms' },
          { type: 'p95', field: 'duration_ms' },
          { type: 'count', field: 'duration_ms' },
        ],
        interval: '6h',
      }),
    );
    expect(m.json.meta.table).toBe('event_measures_1h_v1');
    const [exact] = await stack.rows<{ s: number; p: number; c: string }>(
      `SELECT sum(measures['duration_ms']) AS s, quantileExact(0.95)(measures['duration_ms']) AS p, count() AS c FROM events_raw_v1 WHERE project_id = {p:String}`,
      { p: stack.project },
    );
    const point = m.json.series[0].points[0];
    expect(point.sum_duration_ms).toBeCloseTo(exact!.s, 6);
    expect(point.count_duration_ms).toBe(Number(exact!.c));
    expect(Math.abs(point.p95_duration_ms - exact!.p) / exact!.p).toBeLessThanOrEqual(0.02);
  });

  test('the figure of a range is computed over the range: p95 from the merged sketches, uniques counted once; the bucket still filling is partial', async () => {
    const r = await call(
      'POST',
      '/api/v1/query/timeseries?cache=false',
      stack.keys.read,
      ts({ measures: [{ type: 'p95', field: 'duration_ms' }, { type: 'unique_users' }, { type: 'count' }], interval: '1h' }),
    );
    expect(r.status).toBe(200);
    const [exact] = await stack.rows<{ p: number; u: string; c: string }>(
      `SELECT quantileExact(0.95)(measures['duration_ms']) AS p, uniqExact(distinct_id) AS u, count() AS c FROM events_raw_v1
       WHERE project_id = {p:String} AND timestamp >= fromUnixTimestamp64Milli({f:Int64}) AND timestamp < fromUnixTimestamp64Milli({t:Int64})`,
      { p: stack.project, f: FROM, t: TO },
    );
    const total = r.json.series[0].total;
    expect(Math.abs(total.p95_duration_ms - exact!.p) / exact!.p).toBeLessThanOrEqual(0.02);
    // 120 users over the range, not the sum of each hour's users.
    expect(Math.abs(total.unique_users - Number(exact!.u)) / Number(exact!.u)).toBeLessThanOrEqual(0.02);
    expect(total.count).toBe(Number(exact!.c));
    const hourlyUsers = r.json.series[0].points.reduce((n: number, p: any) => n + p.unique_users, 0);
    expect(hourlyUsers).toBeGreaterThan(total.unique_users * 2);
    // A closed past range has no partial bucket; an open one ("last") marks its last bucket, and only that one.
    expect(r.json.series[0].points.some((p: any) => 'partial' in p)).toBe(false);
    const live = await call('POST', '/api/v1/query/timeseries?cache=false', stack.keys.read, {
      measures: [{ type: 'count' }],
      range: { last: '1h' },
      interval: '5m',
    });
    const pts = live.json.series[0].points;
    expect(pts[pts.length - 1].partial).toBe(true);
    expect(pts.slice(0, -1).every((p: any) => p.partial === undefined)).toBe(true);
  });

  test('a property dimension falls back to the raw table; empty buckets are filled; previous period compared', async () => {
    const r = await call(
      'POST',
      '/api/v1/query/timeseries?cache=false',
      stack.keys.read,
      ts({ measures: [{ type: 'count' }], dimensions: ['properties.plan'], compare: 'previous_period' }),
    );
    expect(r.json.meta.table).toBe('events_raw_v1');
    expect(r.json.series.map((s: any) => s.dimensions['properties.plan']).sort()).toEqual(['free', 'pro']);
    expect(r.json.series[0].points).toHaveLength(6);
    expect(r.json.previous.flatMap((s: any) => s.points).every((p: any) => p.count === 0)).toBe(true);
  });

  test('a range not on hour boundaries uses the minute rollup; a filter narrows it', async () => {
    const r = await call('POST', '/api/v1/query/timeseries?cache=false', stack.keys.read, {
      range: { from: new Date(FROM + 30 * 60_000).toISOString(), to: new Date(TO).toISOString() },
      interval: '30m',
      measures: [{ type: 'count' }],
      filter: {
        and: [
          { field: 'channel', op: 'is', value: 'app' },
          { field: 'name', op: 'in', value: ['checkout', 'page_view'] },
        ],
      },
    });
    expect(r.json.meta.table).toBe('events_1m_v1');
    const [raw] = await stack.rows<{ c: string }>(
      `SELECT count() AS c FROM events_raw_v1 WHERE project_id = {p:String} AND channel = 'app' AND timestamp >= fromUnixTimestamp64Milli({f:Int64})`,
      { p: stack.project, f: FROM + 30 * 60_000 },
    );
    expect(r.json.series[0].points.reduce((n: number, p: any) => n + p.count, 0)).toBe(Number(raw!.c));
  });

  test("bucket starts computed without ClickHouse equal ClickHouse's toStartOfInterval in fixed-offset zones; DST ranges are left to ClickHouse", async () => {
    const zones = ['UTC', 'Asia/Shanghai', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns', 'Australia/Lord_Howe', 'Europe/London', 'America/New_York'];
    const intervals: IntervalName[] = ['1m', '5m', '15m', '30m', '1h', '6h', '12h', '1d', '1w'];
    const ranges: ResolvedRange[] = [
      { from: Date.UTC(2026, 5, 10, 13, 7, 11), to: Date.UTC(2026, 5, 12, 1, 2, 3), openEnd: false }, // June: no DST change anywhere listed
      { from: Date.UTC(2026, 0, 5, 0, 0, 0), to: Date.UTC(2026, 1, 5, 0, 0, 0), openEnd: false }, // January
      { from: Date.UTC(2026, 2, 1, 10, 30, 0), to: Date.UTC(2026, 3, 15, 0, 0, 0), openEnd: false }, // spring changes (US, EU, Lord Howe)
    ];
    let computed = 0;
    let leftToClickHouse = 0;
    for (const tz of zones) {
      for (const interval of intervals) {
        for (const range of ranges) {
          const js = fixedOffsetBucketStarts(range, interval, tz);
          if (!js) {
            leftToClickHouse++;
            continue;
          }
          const step = Math.min({ '1m': 60, '5m': 300, '15m': 900, '30m': 1800 }[interval as '1m'] ?? 3600, 3600);
          const unit = {
            '1m': '1 MINUTE',
            '5m': '5 MINUTE',
            '15m': '15 MINUTE',
            '30m': '30 MINUTE',
            '1h': '1 HOUR',
            '6h': '6 HOUR',
            '12h': '12 HOUR',
            '1d': '1 DAY',
            '1w': '1 WEEK',
          }[interval];
          const rows = await stack.rows<{ t: string }>(
            `SELECT DISTINCT toUnixTimestamp(toStartOfInterval(fromUnixTimestamp64Milli({from:Int64}) + toIntervalSecond(number * {step:UInt32}), INTERVAL ${unit}, {tz:String})) * 1000 AS t
             FROM numbers({count:UInt32}) ORDER BY t`,
            { from: range.from, step, tz, count: Math.ceil((range.to - range.from) / 1000 / step) + 1 },
          );
          const ch = rows.map((r) => Number(r.t)).filter((t) => t < range.to);
          expect({ tz, interval, from: range.from, starts: js }).toEqual({ tz, interval, from: range.from, starts: ch });
          computed++;
        }
      }
    }
    expect(computed).toBeGreaterThan(100);
    // Weeks, and the spring range in the four zones that change then (St John's, New York, London, Lord Howe).
    expect(leftToClickHouse).toBe(zones.length * ranges.length + 4 * (intervals.length - 1));
  });

  test('a daily rollup (UTC days) is not used for local days of a range reaching into summer time', () => {
    const req = timeseriesRequest.parse({
      measures: [{ type: 'count' }],
      range: { from: '2026-01-01T00:00:00Z', to: '2026-08-01T00:00:00Z' },
      interval: '1d',
      timezone: 'Europe/London',
    });
    const summer = plan(req, 'p', { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 7, 1), openEnd: false }, '1d');
    expect(summer.table).toBe('events_1h_v1');
    const winter = plan(req, 'p', { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 1, 1), openEnd: false }, '1d');
    expect(winter.table).toBe('events_1d_v1');
  });

  test('range totals equal the range asked as a statement of its own, however they are computed, in each project', async () => {
    // Each way Plan.totals has: GROUPING SETS rows (rollups and the raw fallback, with and without dimensions),
    // sums of bucket counts, and a second statement where the by_name projection answers the series.
    const cases: [Record<string, unknown>, string, string][] = [
      [{ measures: [{ type: 'unique_users' }, { type: 'unique_sessions' }], dimensions: ['channel'], interval: '1h' }, 'events_1h_v1', 'rows'],
      [
        { measures: [{ type: 'count' }, { type: 'unique_users' }], filter: { field: 'channel', op: 'is', value: 'web' }, interval: '1h' },
        'events_1h_v1',
        'rows',
      ],
      [
        {
          measures: ['p95', 'avg', 'min', 'max', 'sum', 'count'].map((type) => ({ type, field: 'duration_ms' })),
          dimensions: ['name'],
          interval: '1h',
        },
        'event_measures_1h_v1',
        'rows',
      ],
      [
        { measures: [{ type: 'count' }, { type: 'unique_users' }, { type: 'p95', field: 'duration_ms' }], dimensions: ['name'], interval: '1h' },
        'events_raw_v1',
        'rows',
      ],
      [{ measures: [{ type: 'count' }], dimensions: ['name', 'channel'], interval: '30m' }, 'events_1m_v1', 'counts'],
      [{ measures: [{ type: 'count', field: 'duration_ms' }], dimensions: ['name'], interval: '1h', fill: true }, 'event_measures_1h_v1', 'counts'],
      [{ measures: [{ type: 'count' }, { type: 'count', field: 'duration_ms' }], dimensions: ['name'], interval: '1h' }, 'events_raw_v1', 'counts'],
      [{ measures: [{ type: 'unique_users' }, { type: 'count' }], dimensions: ['name'], interval: '1h' }, 'events_1h_v1', 'whole'],
    ];
    const range: ResolvedRange = { from: FROM, to: TO, openEnd: false };
    for (const [project, key] of [
      [stack.project, stack.keys.read],
      [other.project, other.read],
    ] as const) {
      for (const [extra, table, totals] of cases) {
        const body = ts(extra);
        const req = timeseriesRequest.parse(body);
        const pl = plan(req, project, range, req.interval as IntervalName);
        expect({ extra, table: pl.table, totals: pl.totals }).toEqual({ extra, table, totals });
        const r = await call('POST', '/api/v1/query/timeseries?cache=false', key, body);
        expect(r.status).toBe(200);
        // The reference: the range as one bucket, a statement of its own (what every total was computed with before).
        const whole = plan(req, project, range, req.interval as IntervalName, { whole: true });
        expect(whole.totals).toBe('none');
        const rows = await stack.rows<Record<string, string | number | null>>(whole.sql, whole.params);
        const names = aliases(req.measures);
        const expected = new Map(
          rows.map((row) => [
            JSON.stringify(Object.fromEntries(req.dimensions.map((d, i) => [d, String(row[`d${i}`] ?? '')]))),
            Object.fromEntries(names.map((a, i) => [a, row[`m${i}`] === null || !Number.isFinite(Number(row[`m${i}`])) ? null : Number(row[`m${i}`])])),
          ]),
        );
        // A group without rows (the one empty series of a request without dimensions) has nulls, as the statement has no row.
        const noRows = Object.fromEntries(names.map((a) => [a, null]));
        expect(r.json.series.length).toBeGreaterThan(0);
        for (const sr of r.json.series) {
          expect({ project, extra, dims: sr.dimensions, total: sr.total }).toEqual({
            project,
            extra,
            dims: sr.dimensions,
            total: expected.get(JSON.stringify(sr.dimensions)) ?? noRows,
          });
        }
      }
    }
  });

  test('a cached answer is the computed one, sent as stored, per project', async () => {
    const body = ts({ measures: [{ type: 'count' }, { type: 'unique_users' }], dimensions: ['name'], interval: '30m' });
    const miss = await call('POST', '/api/v1/query/timeseries', stack.keys.read, body);
    const hit = await call('POST', '/api/v1/query/timeseries', stack.keys.read, body);
    expect([miss.json.meta.cached, hit.json.meta.cached]).toEqual([false, true]);
    expect({ ...hit.json, meta: { ...hit.json.meta, cached: false } }).toEqual(miss.json);
    // The other project asks the same: its own answer (its one event), not the first project's cached one.
    const theirs = await call('POST', '/api/v1/query/timeseries', other.read, body);
    expect(theirs.json.meta.cached).toBe(false);
    expect(theirs.json.series.map((s: any) => s.dimensions.name)).toEqual(['secret_b']);
    expect(theirs.json.series[0].total).toEqual({ count: 1, unique_users: 1 });
    const theirsAgain = await call('POST', '/api/v1/query/timeseries', other.read, body);
    expect({ ...theirsAgain.json, meta: { ...theirsAgain.json.meta, cached: false } }).toEqual(theirs.json);
    expect(theirsAgain.json.meta.cached).toBe(true);
    expect((await call('POST', '/api/v1/query/timeseries', stack.keys.read, body)).text).not.toContain('secret_b');
  });

  test('a cached answer goes compressed as the client accepts, the same JSON as uncompressed, with its content type and Vary', async () => {
    const body = ts({ measures: [{ type: 'count' }, { type: 'unique_users' }], dimensions: ['name'], interval: '5m' });
    const post = (encoding: string): Promise<{ headers: http.IncomingHttpHeaders; text: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request(
          `${url}/api/v1/query/timeseries`,
          { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.keys.read}`, 'accept-encoding': encoding } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const buf = Buffer.concat(chunks);
              const enc = res.headers['content-encoding'];
              const text = (enc === 'br' ? zlib.brotliDecompressSync(buf) : enc === 'gzip' ? zlib.gunzipSync(buf) : buf).toString();
              resolve({ headers: res.headers, text });
            });
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const miss = await post('br, gzip');
    expect(miss.headers['content-encoding']).toBe('br');
    expect(JSON.parse(miss.text).meta.cached).toBe(false);
    const plain = await post('identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text.length).toBeGreaterThan(1024);
    expect({ ...JSON.parse(plain.text), meta: { ...JSON.parse(plain.text).meta, cached: false } }).toEqual(JSON.parse(miss.text));
    for (const encoding of ['br', 'gzip', 'br', 'gzip', 'gzip, br', 'identity', 'br;q=0.5, gzip']) {
      const hit = await post(encoding);
      expect({ encoding, text: hit.text }).toEqual({ encoding, text: plain.text });
      // The encoding koa-compress chose for the miss: br before gzip at equal q, whatever the order named.
      expect({ encoding, sent: hit.headers['content-encoding'] }).toEqual({
        encoding,
        sent: encoding === 'identity' ? undefined : encoding === 'gzip, br' ? 'br' : encoding === 'br;q=0.5, gzip' ? 'gzip' : encoding,
      });
      expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(hit.headers.vary).toMatch(/accept-encoding/i);
    }
  });

  test('results are cached, the cache can be bypassed, and bad input names the field', async () => {
    const body = ts({ measures: [{ type: 'count' }] });
    expect((await call('POST', '/api/v1/query/timeseries', stack.keys.read, body)).json.meta.cached).toBe(false);
    expect((await call('POST', '/api/v1/query/timeseries', stack.keys.read, body)).json.meta.cached).toBe(true);
    expect((await call('POST', '/api/v1/query/timeseries?cache=false', stack.keys.read, body)).json.meta.cached).toBe(false);
    const bad = await call('POST', '/api/v1/query/timeseries', stack.keys.read, { ...body, measures: [{ type: 'median' }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/body\.measures\.0\.type/);
    const inj = await call('POST', '/api/v1/query/timeseries', stack.keys.read, { ...body, dimensions: ["name'); DROP TABLE x; --"] });
    expect(inj.status).toBe(400);
  });

  test('an unknown key (a typo such as filters for filter) is refused with its name, at the top and inside filters and measures', async () => {
    const body = ts({ measures: [{ type: 'count' }] });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...body, filters: [{ field: 'name', op: 'is', value: 'x' }] }, /filters/],
      [{ ...body, filter: { field: 'name', op: 'is', value: 'x', negate: true } }, /negate/],
      [{ ...body, filter: { and: [{ field: 'name', op: 'is', value: 'x' }], or: [] } }, /body\.filter/],
      [{ ...body, measures: [{ type: 'sum', fields: 'duration_ms' }] }, /fields/],
    ];
    for (const [bad, named] of cases) {
      const r = await call('POST', '/api/v1/query/timeseries?cache=false', stack.keys.read, bad);
      expect({ status: r.status, message: r.json.error.message }).toEqual({ status: 400, message: expect.stringMatching(named) });
    }
  });
});

describe('tenant isolation', () => {
  test('no route of the API shows another project anything', async () => {
    const gets = apiRoutes({
      clickhouse: stack.ch,
      readonlyClickhouse: readonly,
      database: stack.database,
      meta: stack.meta,
      kv: new MemoryStore(),
      logger,
      metrics: createMetricsRegistry(),
      alerting,
    }).filter((r) => r.method === 'get' && !r.path.includes(':'));
    expect(gets.length).toBeGreaterThan(5);
    expect(gets.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        '/api/analytics-monitoring/alerts/active',
        '/api/analytics-monitoring/alerts/silences',
        '/api/analytics-monitoring/alerts/rules',
        '/api/analytics-monitoring/etl/status',
      ]),
    );
    for (const r of gets) {
      const res = await call('GET', r.path, r.auth === 'admin' ? stack.keys.admin : stack.keys.read);
      expect({ path: r.path, status: res.status }).toEqual({ path: r.path, status: 200 });
      expect({ path: r.path, leaked: res.text.includes('secret_b') }).toEqual({ path: r.path, leaked: false });
    }
    const seriesRes = await call('POST', '/api/v1/query/timeseries?cache=false', stack.keys.read, ts({ measures: [{ type: 'count' }], dimensions: ['name'] }));
    expect(seriesRes.text).not.toContain('secret_b');
    const sql = await call('POST', '/api/v1/sql', stack.keys.read, { sql: 'SELECT DISTINCT name, distinct_id FROM events_raw_v1' });
    expect(sql.status).toBe(200);
    expect(sql.text).not.toContain('secret_b');
    // The other project sees its own data, and only it.
    const theirs = await call('POST', '/api/v1/sql', other.read, { sql: 'SELECT DISTINCT name FROM events_raw_v1' });
    expect(theirs.json.data.map((d: { name: string }) => d.name).sort()).toEqual(['llm.usage', 'secret_b', 'tidemark.install.heartbeat']);
    // ... and its own alert, silence, rule and synced table.
    for (const path of ['alerts/active', 'alerts/silences', 'alerts/rules', 'alerts/maintenance-windows', 'alerts/history', 'etl/status']) {
      const r = await call('GET', `/api/analytics-monitoring/${path}`, other.read);
      expect({ path, status: r.status, seen: r.text.includes('secret_b') }).toEqual({ path, status: 200, seen: true });
    }
    const keys = await call('GET', '/api/v1/keys', stack.keys.admin);
    expect(keys.json.items).toHaveLength(3);
  });

  test('roles: a read key cannot manage keys; no key is 401', async () => {
    expect((await call('GET', '/api/v1/keys', stack.keys.read)).status).toBe(403);
    expect((await call('POST', '/api/v1/query/timeseries', undefined, {})).status).toBe(401);
    const created = await call('POST', '/api/v1/keys', stack.keys.admin, { role: 'read', description: 'ci' });
    expect(created.status).toBe(201);
    expect((await call('DELETE', `/api/v1/keys/${created.json.id}`, stack.keys.admin)).status).toBe(200);
  });
});

describe('SQL console', () => {
  test('reads the project data with limits, as JSON or CSV', async () => {
    const r = await call('POST', '/api/v1/sql', stack.keys.read, {
      sql: 'SELECT name, count() AS c FROM events_raw_v1 GROUP BY name ORDER BY name',
      format: 'csv',
    });
    expect(r.status).toBe(200);
    expect(r.text).toBe('"name","c"\n"checkout",1000\n"page_view",2000\n');
    const over = await call('POST', '/api/v1/sql', stack.keys.read, { sql: 'SELECT number FROM numbers(100)', max_rows: 10 });
    expect(over.status).toBe(413);
  });

  test.each([
    ['another database', 'SELECT * FROM system.tables', /names the database system/],
    ['a non-tenant table', 'SELECT * FROM schema_migrations_v1', /not a table of this project's data/],
    // Refused by the guard's allowlist or, earlier, by the embedded front's host guard: either names the function.
    ['merge() around the filters', "SELECT * FROM merge(currentDatabase(), '^events_raw')", /function 'merge'|table function merge/],
    ['reading a file', "SELECT * FROM file('/etc/passwd', 'LineAsString')", /function 'file'|table function file/],
    ['reading a URL', "SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')", /function 'url'|table function url/],
    ['changing settings', 'SELECT 1 SETTINGS additional_table_filters = {}', /SETTINGS clause is not allowed/],
    ['two statements', 'SELECT 1; SELECT 2', /exactly one statement/],
    ['a write', "INSERT INTO events_raw_v1 (name) VALUES ('x')", /only SELECT/],
    ['DDL', 'DROP TABLE events_raw_v1', /only SELECT/],
    ['a subquery into another database', 'SELECT (SELECT count() FROM system.one)', /names the database system/],
  ])('refuses %s', async (_what, sql, message) => {
    const r = await call('POST', '/api/v1/sql', stack.keys.read, { sql });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json.error.message).toMatch(message);
  });
});

describe('log search', () => {
  test('the requirements query language', async () => {
    const q = encodeURIComponent('level:ERROR AND path:/api/v1/payments/* AND status_code:500');
    const r = await call('GET', `/api/v1/logs/search?q=${q}`, stack.keys.read);
    expect(r.status).toBe(200);
    expect(r.json.items.map((i: any) => i.message)).toEqual(['payment failed']);
    const slow = await call('GET', `/api/v1/logs/search?q=${encodeURIComponent('process_time:>2')}`, stack.keys.read);
    expect(slow.json.items.map((i: any) => i.message)).toEqual(['order failed', 'payment failed']);
    const text = await call('GET', `/api/v1/logs/search?q=${encodeURIComponent('"payment" AND NOT level:ERROR')}`, stack.keys.read);
    expect(text.json.items.map((i: any) => i.message)).toEqual(['payment ok']);
    const bad = await call('GET', `/api/v1/logs/search?q=${encodeURIComponent('(level:ERROR')}`, stack.keys.read);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/missing \)/);
  });
});

test('monitoring endpoints and the OpenAPI document', async () => {
  const sys = await call('GET', '/api/analytics-monitoring/monitoring/metrics/system', stack.keys.read);
  expect(sys.json.metrics).toEqual([expect.objectContaining({ name: 'system_cpu_percent', value: 42, labels: { host: 'h1' } })]);
  const svc = await call('GET', '/api/analytics-monitoring/monitoring/health/services', stack.keys.read);
  expect(svc.json.services).toEqual([expect.objectContaining({ target: 'http://svc-a', up: true })]);
  const doc = await call('GET', '/openapi.json', undefined);
  expect(doc.json.openapi).toBe('3.1.0');
  expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(['/api/v1/query/timeseries', '/api/v1/sql', '/api/v1/logs/search', '/api/v1/keys/{id}']));
  expect(Object.keys(doc.json.paths)).toEqual(
    expect.arrayContaining([
      '/api/analytics-monitoring/analytics/orders/revenue',
      '/api/analytics-monitoring/dashboard/today',
      '/api/analytics-monitoring/ai/roi',
      '/api/analytics-monitoring/quality/records/{id}/review',
      '/api/analytics-monitoring/usage/distribution',
    ]),
  );
  expect(doc.json.paths['/api/analytics-monitoring/analytics/orders/revenue'].get.parameters.map((p: any) => p.name)).toEqual(
    expect.arrayContaining(['period', 'by', 'status', 'start_date', 'end_date', 'timezone']),
  );
  expect(doc.json.paths['/api/v1/query/timeseries'].post.requestBody.content['application/json'].schema.properties.measures).toBeDefined();
});

describe('realtime overview', () => {
  test('events per minute count by when events happened: a backfill of history received now is not live traffic', async () => {
    const project = `${stack.project}-rt`;
    await ensureProject(stack.meta, project);
    const key = (await createApiKey(stack.meta, { projectId: project, role: 'read' })).key;
    // Stay clear of a minute boundary between sending and asking.
    while (Date.now() % 60_000 < 5_000 || Date.now() % 60_000 > 50_000) await new Promise((r) => setTimeout(r, 1_000));
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const at = (t: number, i: number) => ({ name: 'page_view', timestamp: t, distinct_id: `u${i}`, session_id: `s${i}` });
    await ingest(project, 'events', [
      ...Array.from({ length: 3 }, (_, i) => at(minute - 30_000, i)),
      ...Array.from({ length: 2 }, (_, i) => at(minute + 1_000, i)),
      // Two days of history written now, as the demo's first start does.
      ...Array.from({ length: 500 }, (_, i) => ({ ...at(minute - 2 * 86_400_000 + i * 60_000, i), properties: { backfill: true } })),
    ]);
    const r = await call('GET', '/api/analytics-monitoring/realtime/overview', key);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      events_last_minute: 3,
      events_this_minute: 2,
      this_minute_partial: true,
      minute_start: new Date(minute).toISOString().replace('.000Z', 'Z'),
    });
  });
});
