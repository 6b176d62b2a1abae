/** HTTP → micro-batched ClickHouse inserts (embedded mode), against chDB over HTTP and the real Postgres. */
import crypto from 'node:crypto';
import { ClickHouseSink } from '../src';
import { bearer, logger, post, startCollector, startStack, type RunningCollector, type Stack } from './harness';

let stack: Stack;
let collector: RunningCollector;
let sink: ClickHouseSink;

beforeAll(async () => {
  stack = await startStack();
  sink = new ClickHouseSink(stack.ch, logger, { maxRows: 50_000, maxDelayMs: 20, maxPendingRows: 500_000, maxConcurrentFlushes: 2 });
  collector = await startCollector(stack, sink);
});

afterAll(async () => {
  await collector?.close();
  await sink?.close();
  await stack?.close();
});

test('events land in the raw table and every rollup with equal totals', async () => {
  const now = Date.now();
  const events = Array.from({ length: 500 }, (_, i) => ({
    event_id: crypto.randomUUID(),
    name: i % 2 ? 'message.ai' : 'session.start',
    timestamp: now - i * 1000,
    distinct_id: `u${i % 25}`,
    session_id: `s${i % 50}`,
    properties: { response_time: i, tokens: 10 },
    context: { product: 'chatbot', channel: 'web' },
  }));
  const r = await post(`${collector.url}/v1/events`, JSON.stringify(events), bearer(stack.keys.ingest));
  expect(r.status).toBe(200);
  expect(r.json).toEqual({ accepted: 500, duplicates: 0, rejected: [], warnings: 0 });

  const p = { p: stack.project };
  const [raw] = await stack.rows<{ c: string; u: string }>(
    'SELECT count() AS c, uniqExact(distinct_id) AS u FROM events_raw_v1 WHERE project_id = {p:String}',
    p,
  );
  expect(raw).toEqual({ c: '500', u: '25' });
  for (const g of ['1m', '1h', '1d']) {
    const [roll] = await stack.rows<{ c: string; u: string }>(
      `SELECT sum(events) AS c, uniqMerge(users) AS u FROM events_${g}_v1 WHERE project_id = {p:String}`,
      p,
    );
    expect(roll).toEqual({ c: '500', u: '25' });
    const [m] = await stack.rows<{ n: string; s: number; mx: number }>(
      `SELECT sum(count) AS n, sum(sum) AS s, max(max) AS mx FROM event_measures_${g}_v1 WHERE project_id = {p:String} AND measure = 'response_time'`,
      p,
    );
    expect(m).toEqual({ n: '500', s: (499 * 500) / 2, mx: 499 });
  }
});

test('NDJSON and gzip bodies; metrics and logs land too', async () => {
  const nd = ['{"name":"a","distinct_id":"x"}', '{"name":"b","distinct_id":"y"}'].join('\n');
  expect((await post(`${collector.url}/v1/events`, nd, { ...bearer(stack.keys.ingest), 'content-type': 'application/x-ndjson' }, true)).json).toMatchObject({
    accepted: 2,
  });
  const metrics = [
    { name: 'system_cpu_percent', value: 42.5, labels: { host: 'h1' } },
    { name: 'system_cpu_percent', value: 57.5, labels: { host: 'h1' } },
    { name: 'http_requests_total', value: 3, type: 'counter', labels: { status: 500 } },
  ];
  expect((await post(`${collector.url}/v1/metrics`, JSON.stringify(metrics), bearer(stack.keys.ingest))).json).toMatchObject({ accepted: 3 });
  const logs = [
    { level: 'ERROR', service: 'payments', message: 'payment failed', attributes: { path: '/api/v1/payments/9', status_code: 500 } },
    { level: 30, msg: 'ok', name: 'api', time: Date.now() },
  ];
  expect((await post(`${collector.url}/v1/logs`, JSON.stringify(logs), bearer(stack.keys.ingest))).json).toMatchObject({ accepted: 2 });
  const p = { p: stack.project };
  expect(
    await stack.rows('SELECT avg(value) AS v FROM metrics_raw_v1 WHERE project_id = {p:String} AND name = {n:String}', { ...p, n: 'system_cpu_percent' }),
  ).toEqual([{ v: 50 }]);
  expect(
    await stack.rows("SELECT sum(count) AS n, max(max) AS mx FROM metrics_1m_v1 WHERE project_id = {p:String} AND name = 'system_cpu_percent'", p),
  ).toEqual([{ n: '2', mx: 57.5 }]);
  expect(
    await stack.rows(
      "SELECT level, service, attributes['status_code'] AS sc FROM logs_raw_v1 WHERE project_id = {p:String} AND hasToken(lower(message), 'payment') ",
      p,
    ),
  ).toEqual([{ level: 'ERROR', service: 'payments', sc: '500' }]);
});

test('a clamped future timestamp is stored at receive time and the warning is queryable', async () => {
  const id = crypto.randomUUID();
  const r = await post(
    `${collector.url}/v1/events`,
    JSON.stringify([{ event_id: id, name: 'future', timestamp: Date.now() + 7 * 86_400_000 }]),
    bearer(stack.keys.ingest),
  );
  expect(r.json).toMatchObject({ accepted: 1, warnings: 1 });
  const w = await stack.rows("SELECT kind, event_id FROM ingest_warnings_v1 WHERE project_id = {p:String} AND kind = 'timestamp_in_future'", {
    p: stack.project,
  });
  expect(w).toEqual([{ kind: 'timestamp_in_future', event_id: id }]);
});

test('concurrent requests are batched together and each is acknowledged after commit', async () => {
  const before = Number((await stack.rows<{ c: string }>("SELECT count() AS c FROM events_raw_v1 WHERE name = 'burst'"))[0]?.c);
  const replies = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      post(
        `${collector.url}/v1/events`,
        JSON.stringify(Array.from({ length: 100 }, (_, j) => ({ name: 'burst', distinct_id: `u${i}-${j}` }))),
        bearer(stack.keys.ingest),
      ),
    ),
  );
  expect(replies.every((r) => r.status === 200)).toBe(true);
  // Acknowledged means committed: the count is exact right after the last reply.
  const [after] = await stack.rows<{ c: string }>("SELECT count() AS c FROM events_raw_v1 WHERE name = 'burst'");
  expect(Number(after?.c) - before).toBe(4000);
});

test('ClickHouse down: requests get 503 (retriable), nothing is acknowledged falsely, and it recovers', async () => {
  await stack.stopClickHouse();
  const r = await post(`${collector.url}/v1/events`, JSON.stringify([{ name: 'while_down' }]), bearer(stack.keys.ingest));
  expect(r.status).toBe(503);
  expect(r.json).toMatchObject({ error: { code: 'DEPENDENCY_UNAVAILABLE', retriable: true } });
  await stack.startClickHouse();
  const ok = await post(`${collector.url}/v1/events`, JSON.stringify([{ name: 'after_up' }]), bearer(stack.keys.ingest));
  expect(ok.status).toBe(200);
  expect(await stack.rows("SELECT count() AS c FROM events_raw_v1 WHERE name = 'after_up'")).toEqual([{ c: '1' }]);
}, 120_000);
