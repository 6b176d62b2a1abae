/**
 * Issue 11, items 1, 2, 8, 9, 10: every surface that runs user-supplied SQL
 * (the console, rule validate, rule preview, backtest, rule evaluation) goes
 * through core's TenantQuery. A table of escapes is run on every surface
 * with project A's keys while project B holds marked rows in events, logs,
 * metrics, a rollup and a biz_* table: each escape must return nothing of B
 * or be refused with a clear 4xx. Real engines: the embedded ClickHouse over
 * HTTP (read-only user) and the real Postgres.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backtest, ruleSchema } from '@tidemark/alerting';
// The engine's own evaluation function (what the evaluator calls for each due rule).
import { runRule } from '../../alerting/src/engine/evaluate';
import { startApi, type ApiEnv } from './helpers';

let env: ApiEnv;
const A_MARK = 'AAA_MARK';
const B_MARK = 'SECRET_B';
const now = Date.now();
const iso = (t: number): string => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
const outfile = path.join(os.tmpdir(), `tm-outfile-${process.pid}-${Date.now()}`);
const BASE = '/api/analytics-monitoring/alerts';

beforeAll(async () => {
  env = await startApi();
  const { ch, project: A } = env.stack;
  const B = env.other.project;
  await env.ingest(A, [{ name: `${A_MARK}_event`, distinct_id: 'u1' }]);
  await env.ingest(B, [{ name: `${B_MARK}_event`, distinct_id: 'u2' }]);
  const t = iso(now - 60_000);
  await ch.client.insert({
    table: 'logs_raw_v1',
    values: [
      { project_id: A, timestamp: t, received_at: t, level: 'ERROR', service: 'api', message: `${A_MARK}_log`, attributes: {}, trace_id: '', request_id: '' },
      { project_id: B, timestamp: t, received_at: t, level: 'ERROR', service: 'api', message: `${B_MARK}_log`, attributes: {}, trace_id: '', request_id: '' },
    ],
    format: 'JSONEachRow',
  });
  await ch.client.insert({
    table: 'metrics_raw_v1',
    values: [A, B].map((p) => ({
      project_id: p,
      name: p === B ? `${B_MARK}_metric` : `${A_MARK}_metric`,
      type: 'gauge',
      labels: {},
      labels_key: '',
      value: 1,
      timestamp: t,
      received_at: t,
    })),
    format: 'JSONEachRow',
  });
  // A biz_* table as the ETL lands it: project_id first, ReplacingMergeTree.
  await ch.command(`CREATE TABLE biz_secrets_v1 (project_id LowCardinality(String), id String, secret String, is_deleted UInt8, _version UInt64)
    ENGINE = ReplacingMergeTree(_version, is_deleted) ORDER BY (project_id, id)`);
  await ch.client.insert({
    table: 'biz_secrets_v1',
    values: [
      { project_id: A, id: '1', secret: `${A_MARK}_biz`, is_deleted: 0, _version: 1 },
      { project_id: B, id: '1', secret: `${B_MARK}_biz`, is_deleted: 0, _version: 1 },
    ],
    format: 'JSONEachRow',
  });
  // A table of the Tidemark database without project_id: never readable.
  await ch.command(`CREATE TABLE plain_notes_v1 (note String) ENGINE = MergeTree ORDER BY note`);
  await ch.client.insert({ table: 'plain_notes_v1', values: [{ note: `${B_MARK}_plain` }], format: 'JSONEachRow' });
}, 120_000);

afterAll(async () => {
  await env?.close();
  fs.rmSync(outfile, { force: true });
});

/** Each escape is a rule-shaped query: a string column `leak` (the label) and a numeric `value`. */
const ESCAPES: [string, string][] = [
  ['!= placeholder', `SELECT name AS leak, toFloat64(count()) AS value FROM events_raw_v1 WHERE project_id != {project_id:String} GROUP BY leak`],
  ['OR 1', `SELECT name AS leak, toFloat64(count()) AS value FROM events_raw_v1 WHERE project_id = {project_id:String} OR 1 GROUP BY leak`],
  [
    'placeholder in a comment',
    `SELECT message AS leak, toFloat64(count()) AS value FROM logs_raw_v1 /* WHERE project_id = {project_id:String} */ GROUP BY leak`,
  ],
  ['no placeholder at all (metrics)', `SELECT name AS leak, toFloat64(count()) AS value FROM metrics_raw_v1 GROUP BY leak`],
  ['rollup table', `SELECT name AS leak, toFloat64(sum(events)) AS value FROM events_1h_v1 WHERE project_id != '' GROUP BY leak`],
  ['biz_* of B', `SELECT secret AS leak, toFloat64(count()) AS value FROM biz_secrets_v1 FINAL WHERE project_id != {project_id:String} GROUP BY leak`],
  ['system.*', `SELECT name AS leak, toFloat64(1) AS value FROM system.tables`],
  ['x IN system.one', `SELECT 'x' AS leak, toFloat64(0 IN system.one) AS value`],
  ['other database', `SELECT name AS leak, toFloat64(1) AS value FROM information_schema.tables`],
  ['default database', `SELECT 'x' AS leak, toFloat64(count()) AS value FROM default.events_raw_v1`],
  ['table without project_id', `SELECT note AS leak, toFloat64(1) AS value FROM plain_notes_v1`],
  ['IN a table without project_id', `SELECT 'x' AS leak, toFloat64('${B_MARK}_plain' IN plain_notes_v1) AS value`],
  ['INTO OUTFILE', `SELECT 'x' AS leak, toFloat64(1) AS value INTO OUTFILE '${outfile}' TRUNCATE`],
  ['table function file', `SELECT line AS leak, toFloat64(1) AS value FROM file('/etc/passwd', 'LineAsString')`],
  ['table function url', `SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'leak String, value Float64')`],
  ['table function remote', `SELECT name AS leak, toFloat64(1) AS value FROM remote('127.0.0.1', currentDatabase(), 'events_raw_v1')`],
  ['table function merge', `SELECT name AS leak, toFloat64(1) AS value FROM merge('^events_raw')`],
  ['scalar function file', `SELECT file('/etc/hostname') AS leak, toFloat64(1) AS value`],
  ['dictGet', `SELECT dictGet('d', 'a', toUInt64(1)) AS leak, toFloat64(1) AS value`],
  ['joinGet', `SELECT joinGet('j', 'a', 1) AS leak, toFloat64(1) AS value`],
  ['SETTINGS', `SELECT name AS leak, toFloat64(count()) AS value FROM events_raw_v1 GROUP BY leak SETTINGS additional_table_filters = map()`],
  ['FORMAT', `SELECT name AS leak, toFloat64(count()) AS value FROM events_raw_v1 GROUP BY leak FORMAT JSON`],
  ['subquery', `SELECT leak, toFloat64(1) AS value FROM (SELECT message AS leak FROM logs_raw_v1 WHERE project_id != {project_id:String})`],
  ['scalar subquery', `SELECT (SELECT any(message) FROM logs_raw_v1 WHERE project_id != {project_id:String}) AS leak, toFloat64(1) AS value`],
  [
    'IN subquery',
    `SELECT name AS leak, toFloat64(1) AS value FROM events_raw_v1 WHERE name IN (SELECT name FROM events_raw_v1 WHERE project_id != {project_id:String}) OR 1 GROUP BY leak`,
  ],
  [
    'JOIN',
    `SELECT b.message AS leak, toFloat64(1) AS value FROM (SELECT 1 AS k) AS a INNER JOIN (SELECT 1 AS k, message FROM logs_raw_v1 WHERE project_id != {project_id:String}) AS b ON a.k = b.k`,
  ],
  [
    'UNION',
    `SELECT name AS leak, 1. AS value FROM metrics_raw_v1 WHERE 0 UNION ALL SELECT name AS leak, 2. AS value FROM metrics_raw_v1 WHERE project_id != {project_id:String}`,
  ],
  ['CTE', `WITH b AS (SELECT message FROM logs_raw_v1 WHERE project_id != {project_id:String}) SELECT message AS leak, toFloat64(1) AS value FROM b`],
  ['getSetting', `SELECT getSetting('additional_table_filters') AS leak, toFloat64(1) AS value`],
  ['EXPLAIN', `EXPLAIN SELECT 1 AS value`],
  ['two statements', `SELECT 1 AS value; SELECT 2 AS value`],
];

const ruleOf = (name: string, sql: string): Record<string, unknown> => ({ name: `Esc${name.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 60), interval: '1m', sql });

describe.each(ESCAPES)('escape: %s', (_label, sql) => {
  test('console: refused (4xx) or nothing of B', async () => {
    const r = await env.call('POST', '/api/v1/sql', env.stack.keys.read, { sql });
    expect(r.text).not.toContain(B_MARK);
    if (r.status !== 200) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.json?.error?.message).toMatch(/^sql: .{8,}/);
    }
    expect(fs.existsSync(outfile)).toBe(false);
  });

  test('rule validate (read key): refused or nothing of B', async () => {
    const r = await env.call('POST', `${BASE}/rules/validate`, env.stack.keys.read, ruleOf(_label, sql));
    expect(r.text).not.toContain(B_MARK);
    expect(r.status).toBeLessThan(500);
    expect(fs.existsSync(outfile)).toBe(false);
  });

  test('rule preview (read key) and backtest: refused or nothing of B', async () => {
    const r = await env.call('POST', `${BASE}/rules/preview`, env.stack.keys.read, {
      rule: ruleOf(_label, sql),
      from: new Date(now - 5 * 60_000).toISOString(),
      to: new Date(now).toISOString(),
      step_ms: 60_000,
    });
    expect(r.text).not.toContain(B_MARK);
    expect(r.status).toBeLessThan(500);
    const spec = ruleSchema.safeParse(ruleOf(_label, sql));
    if (spec.success) {
      const res = await backtest(env.deps.readonlyClickhouse, spec.data, env.stack.project, {
        from: now - 120_000,
        to: now,
        stepMs: 60_000,
        queryTimeoutCapMs: 10_000,
        maxRows: 1000,
      });
      expect(JSON.stringify(res)).not.toContain(B_MARK);
    }
    expect(fs.existsSync(outfile)).toBe(false);
  });

  test('rule evaluation (the engine path): refused or nothing of B', async () => {
    const spec = ruleSchema.safeParse(ruleOf(_label, sql));
    if (!spec.success) return; // the schema already refuses it (e.g. two statements)
    let out: string;
    try {
      out = JSON.stringify(await runRule(env.deps.readonlyClickhouse, spec.data, env.stack.project, now, { timeoutMs: 10_000, maxRows: 1000 }));
    } catch (err) {
      const e = err as { statusCode?: number; message: string };
      expect(e.statusCode).toBeGreaterThanOrEqual(400);
      expect(e.statusCode).toBeLessThan(500);
      out = e.message;
    }
    expect(out).not.toContain(B_MARK);
    expect(fs.existsSync(outfile)).toBe(false);
  });
});

test('an admin-stored rule of A evaluated by the engine never carries B rows', async () => {
  const sql = `SELECT message AS leak, toFloat64(count()) AS value FROM logs_raw_v1 WHERE project_id != {project_id:String} OR 1 GROUP BY leak`;
  const rule = ruleSchema.parse({ name: 'AdminLeak', interval: '1m', sql });
  const rows = await runRule(env.deps.readonlyClickhouse, rule, env.stack.project, now, { timeoutMs: 10_000, maxRows: 1000 });
  expect(rows.map((r) => r.labels.leak)).toEqual([`${A_MARK}_log`]);
});

test("legitimate console queries see exactly the project's own rows in every table and shape", async () => {
  const q = async (sql: string): Promise<unknown[]> => {
    const r = await env.call('POST', '/api/v1/sql', env.stack.keys.read, { sql });
    expect({ status: r.status, body: r.status === 200 ? '' : r.text }).toEqual({ status: 200, body: '' });
    expect(r.json.statistics).toBeUndefined(); // rows_read/bytes_read span projects: never reported
    return r.json.data as unknown[];
  };
  expect(await q('SELECT name FROM events_raw_v1')).toEqual([{ name: `${A_MARK}_event` }]);
  expect(await q('SELECT message FROM logs_raw_v1 WHERE project_id = project_id')).toEqual([{ message: `${A_MARK}_log` }]);
  expect(await q('SELECT name FROM (SELECT name FROM metrics_raw_v1 UNION ALL SELECT secret FROM biz_secrets_v1 FINAL) ORDER BY name')).toEqual([
    { name: `${A_MARK}_biz` },
    { name: `${A_MARK}_metric` },
  ]);
  expect(await q('WITH c AS (SELECT name FROM events_raw_v1) SELECT count() AS n FROM c JOIN events_1m_v1 AS r USING (name)')).toEqual([{ n: '1' }]);
  expect(await q('SELECT countIf(number % 2 = 0) AS even, quantileTDigest(0.5)(number) AS p50 FROM numbers(10)')).toEqual([{ even: '5', p50: 4 }]);
  const csv = await env.call('POST', '/api/v1/sql', env.stack.keys.read, { sql: 'SELECT name FROM events_raw_v1', format: 'csv' });
  expect(csv.text).toBe(`"name"\n"${A_MARK}_event"\n`);
  // B's key sees B's rows through the same path.
  const b = await env.call('POST', '/api/v1/sql', env.other.read, { sql: 'SELECT name FROM events_raw_v1' });
  expect(b.json.data).toEqual([{ name: `${B_MARK}_event` }]);
});

test('result size: cut on bytes produced (constant columns too) with 413; the engine bounds memory; row limit 413', async () => {
  // 100 rows of one constant 1 MB string: max_result_bytes would count 1 MB; the stream counts 100 MB.
  const big = await env.call('POST', '/api/v1/sql', env.stack.keys.read, { sql: "SELECT repeat('x', 1000000) AS s FROM numbers(100)" });
  expect({ status: big.status, message: big.json?.error?.message }).toEqual({ status: 413, message: expect.stringMatching(/larger than 67108864 bytes/) });
  // 1 GB asked for: the engine's memory limit stops it before it is produced.
  const huge = await env.call('POST', '/api/v1/sql', env.stack.keys.read, { sql: "SELECT repeat('x', 1000000) AS s FROM numbers(1000)" });
  expect(huge.status === 413 || (huge.status === 400 && /needs more memory than its limit/.test(huge.json.error.message))).toBe(true);
  const rows = await env.call('POST', '/api/v1/sql', env.stack.keys.read, { sql: 'SELECT number FROM numbers(100)', max_rows: 10 });
  expect(rows.status).toBe(413);
});

test('preview caps evaluations with a clear 400', async () => {
  const r = await env.call('POST', `${BASE}/rules/preview`, env.stack.keys.read, {
    rule: { name: 'Many', sql: 'SELECT 1 AS value' },
    from: new Date(now - 86_400_000).toISOString(),
    to: new Date(now).toISOString(),
    step_ms: 1000,
  });
  expect(r.status).toBe(400);
  expect(r.json.error.message).toMatch(/at most 500: shorten the window or raise the step/);
});

test('out-of-range inputs answer 400, not 500', async () => {
  const ts = await env.call('POST', '/api/v1/query/timeseries', env.stack.keys.read, {
    measures: [{ type: 'count' }],
    range: { last: '9999w' },
    interval: '1w',
    compare: 'previous_period',
  });
  expect(ts.status).toBe(400);
  const old = await env.call('POST', '/api/v1/query/timeseries', env.stack.keys.read, {
    measures: [{ type: 'count' }],
    range: { last: '400d' },
    interval: '1d',
    compare: 'previous_period',
  });
  expect(old.status).toBe(200);
  const before1970 = await env.call('POST', '/api/v1/query/timeseries', env.stack.keys.read, {
    measures: [{ type: 'count' }],
    range: { from: '1969-12-01T00:00:00Z', to: '1970-01-02T00:00:00Z' },
    interval: '1d',
  });
  expect(before1970.status).toBe(400);
  const nots = `${'NOT '.repeat(399)}level:ERROR`;
  const logs = await env.get(`/api/v1/logs/search?q=${encodeURIComponent(nots)}`);
  expect(logs.status).toBe(400);
  expect(logs.json.error.message).toMatch(/nested deeper than 32/);
  const parens = `${'('.repeat(200)}level:ERROR${')'.repeat(200)}`;
  expect((await env.get(`/api/v1/logs/search?q=${encodeURIComponent(parens)}`)).status).toBe(400);
  expect((await env.get(`/api/v1/logs/search?q=${encodeURIComponent('NOT NOT level:ERROR')}`)).status).toBe(200);
});
