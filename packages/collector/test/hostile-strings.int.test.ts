/**
 * Issue 11 item 5: one tenant's hostile strings must not cost another
 * tenant's rows. Two projects' requests share the embedded-mode micro-batch
 * (a long flush delay puts them in one insert) against the real embedded
 * ClickHouse. Two independent defences are tested:
 *  - validation replaces lone surrogates (what ClickHouse refuses) with U+FFFD;
 *  - a row ClickHouse refuses anyway fails only the request that holds it:
 *    the micro-batch is split by request, the others land.
 */
import crypto from 'node:crypto';
import { createApiKey, ensureProject } from '@tidemark/core';
import { ClickHouseSink, compactLine, SIGNAL_SPECS } from '../src';
import { bearer, logger, post, startCollector, startStack, unique, type RunningCollector, type Stack } from './harness';

let stack: Stack;
let collector: RunningCollector;
let sink: ClickHouseSink;
let other: { project: string; key: string };

beforeAll(async () => {
  stack = await startStack();
  // 300 ms of flush delay: requests sent together are inserted together.
  sink = new ClickHouseSink(stack.ch, logger, { maxRows: 100_000, maxDelayMs: 300, maxPendingRows: 500_000, maxConcurrentFlushes: 1 });
  collector = await startCollector(stack, sink);
  const project = unique('pb').toLowerCase().slice(0, 60);
  await ensureProject(stack.meta, project);
  other = { project, key: (await createApiKey(stack.meta, { projectId: project, role: 'ingest' })).key };
}, 120_000);

afterAll(async () => {
  await collector?.close();
  await sink?.close();
  await stack?.close();
});

const count = async (sql: string, params: Record<string, unknown>): Promise<number> => Number((await stack.rows<{ c: string }>(sql, params))[0]?.c ?? 0);

test('a hostile tenant sending lone surrogates every 50 ms: the other tenant loses nothing, the hostile rows are stored repaired with a warning', async () => {
  const good = (i: number) =>
    Array.from({ length: 50 }, (_, j) => ({ event_id: crypto.randomUUID(), name: 'good', distinct_id: `u${i}-${j}`, properties: { v: 1 } }));
  const hostileEvents = [
    { name: '\ud800', distinct_id: 'x\ud800', properties: { ['k\udc00']: '\ud800', duration_ms: 3 } },
    { name: 'fine', distinct_id: 'y' },
  ];
  const stop = { now: false };
  const hostile: number[] = [];
  const attacker = (async () => {
    while (!stop.now) {
      const rs = await Promise.all([
        post(`${collector.url}/v1/events`, JSON.stringify(hostileEvents), bearer(other.key)),
        post(`${collector.url}/v1/logs`, JSON.stringify([{ level: 'INFO', service: 's\ud800', message: 'm\ud800' }]), bearer(other.key)),
        post(`${collector.url}/v1/metrics`, JSON.stringify([{ name: 'hostile_gauge', value: 1, labels: { l: '\udbff' } }]), bearer(other.key)),
      ]);
      hostile.push(...rs.map((r) => r.status));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const replies = [];
  for (let i = 0; i < 10; i++) replies.push(await post(`${collector.url}/v1/events`, JSON.stringify(good(i)), bearer(stack.keys.ingest)));
  stop.now = true;
  await attacker;

  expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE project_id = {p:String} AND name = 'good'", { p: stack.project })).toBe(500);
  expect(await count("SELECT sum(events) AS c FROM events_1m_v1 WHERE project_id = {p:String} AND name = 'good'", { p: stack.project })).toBe(500);

  // The hostile tenant's own requests were accepted, repaired, and told so.
  expect(hostile.length).toBeGreaterThan(0);
  expect(new Set(hostile)).toEqual(new Set([200]));
  const sent = hostile.length / 3;
  const p = { p: other.project };
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE project_id = {p:String} AND name = '\ufffd' AND distinct_id = 'x\ufffd'", p)).toBe(sent);
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE project_id = {p:String} AND name = 'fine'", p)).toBe(sent);
  expect(await count("SELECT count() AS c FROM logs_raw_v1 WHERE project_id = {p:String} AND message = 'm\ufffd' AND service = 's\ufffd'", p)).toBe(sent);
  expect(await count("SELECT count() AS c FROM metrics_raw_v1 WHERE project_id = {p:String} AND labels['l'] = '\ufffd'", p)).toBe(sent);
  expect(await count("SELECT count() AS c FROM ingest_warnings_v1 WHERE project_id = {p:String} AND kind = 'invalid_unicode_replaced'", p)).toBe(sent * 3);
  // Stored text is valid UTF-8 everywhere (an unpaired low surrogate used to be stored as CESU bytes).
  expect(
    await count(
      'SELECT countIf(NOT isValidUTF8(name) OR NOT isValidUTF8(distinct_id) OR NOT isValidUTF8(properties)) AS c FROM events_raw_v1 WHERE project_id = {p:String}',
      p,
    ),
  ).toBe(0);
}, 120_000);

test("a row ClickHouse refuses fails only its own request: the other tenant's rows of the same micro-batch land, the hostile request gets a 400 naming the reason", async () => {
  const spec = SIGNAL_SPECS.events;
  const at = '2026-12-04 10:00:00.000';
  const row = (project: string, name: string) =>
    compactLine(spec.columns, {
      project_id: project,
      event_id: crypto.randomUUID(),
      name,
      timestamp: at,
      received_at: at,
      distinct_id: 'u',
      session_id: '',
      properties: '{}',
      measures: {},
      product: '',
      channel: '',
      os: '',
      app_version: '',
      user_agent: '',
    });
  // Lines as a validator that missed something would pass them: one carries an unpaired high surrogate.
  const goodLines = Array.from({ length: 100 }, () => row(stack.project, 'isolated_good'));
  const badLines = [row(other.project, 'isolated_bad_ok'), row(other.project, '\ud800'), row(other.project, 'isolated_bad_ok')];
  expect(badLines[1]).toContain('\\ud800');
  const moreGood = Array.from({ length: 7 }, () => row(stack.project, 'isolated_good'));
  // Same tick, 300 ms flush delay: one micro-batch of three requests.
  const results = await Promise.allSettled([
    sink.write('events', [], goodLines, []),
    sink.write('events', [], badLines, []),
    sink.write('events', [], moreGood, []),
  ]);
  expect(results[0]).toEqual({ status: 'fulfilled', value: undefined });
  expect(results[2]).toEqual({ status: 'fulfilled', value: undefined });
  expect(results[1]).toMatchObject({ status: 'rejected', reason: { statusCode: 400, retriable: false, code: 'VALIDATION_FAILED' } });
  const reason = (results[1] as PromiseRejectedResult).reason as Error;
  expect(reason.message).toMatch(/ClickHouse refused a row of this request, so none of its 3 row\(s\) were stored: .*surrogate/);
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE project_id = {p:String} AND name = 'isolated_good'", { p: stack.project })).toBe(107);
  expect(await count("SELECT sum(events) AS c FROM events_1d_v1 WHERE project_id = {p:String} AND name = 'isolated_good'", { p: stack.project })).toBe(107);
  // All or nothing per request: the hostile request's valid rows were not half-stored.
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE project_id = {p:String} AND name = 'isolated_bad_ok'", { p: other.project })).toBe(0);
}, 60_000);
