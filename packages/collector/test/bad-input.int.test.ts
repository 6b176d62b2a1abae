/**
 * Malformed requests of every kind each get the documented status and a
 * message naming what is wrong; the collector keeps serving and the valid
 * data sent around them is intact.
 */
import zlib from 'node:zlib';
import { createApiKey, ensureProject, MemoryStore } from '@tidemark/core';
import { ClickHouseSink } from '../src';
import { bearer, logger, post, startCollector, startStack, type RunningCollector, type Stack } from './harness';

let stack: Stack;
let collector: RunningCollector;
let limited: RunningCollector;
let sink: ClickHouseSink;
let goneKey: string;

beforeAll(async () => {
  stack = await startStack();
  sink = new ClickHouseSink(stack.ch, logger, { maxRows: 10_000, maxDelayMs: 10, maxPendingRows: 100_000, maxConcurrentFlushes: 2 });
  collector = await startCollector(stack, sink, { maxBodyBytes: 256 * 1024, maxItemBytes: 16 * 1024, maxItems: 100 });
  limited = await startCollector(stack, sink, { ratePerSecond: 5 }, new MemoryStore());
  // A key whose project is then deleted.
  await ensureProject(stack.meta, `${stack.project}-gone`);
  goneKey = (await createApiKey(stack.meta, { projectId: `${stack.project}-gone`, role: 'ingest' })).key;
  await stack.meta.query('DELETE FROM projects WHERE id = $1', [`${stack.project}-gone`]);
});

afterAll(async () => {
  await collector?.close();
  await limited?.close();
  await sink?.close();
  await stack?.close();
});

const valid = (tag: string): string => JSON.stringify([{ name: 'valid', distinct_id: tag }]);

interface Case {
  name: string;
  path?: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  key?: 'ingest' | 'read' | 'none' | 'wrong' | 'gone';
  status: number;
  message: RegExp;
}

const deep = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { d: v };
  return v;
};

const cases: Case[] = [
  { name: 'broken JSON', body: '[{"name": "a",', status: 400, message: /not valid JSON/ },
  { name: 'a number instead of a batch', body: '42', status: 400, message: /must be a JSON array, an object, or NDJSON; got number/ },
  { name: 'null body', body: 'null', status: 400, message: /got null/ },
  { name: '"batch" that is not an array', body: '{"batch": {"name": "a"}}', status: 400, message: /"batch" must be an array/ },
  { name: 'sent_at of the wrong type', body: '{"sent_at": true, "batch": [{"name":"a"}]}', status: 400, message: /sent_at/ },
  { name: 'empty body', body: '', status: 400, message: /empty/ },
  { name: 'every item of the wrong type', body: '[{"name": 42}, {"name": ["x"]}]', status: 400, message: /all 2 item\(s\) were rejected/ },
  { name: 'missing required field in every item', body: '[{"properties": {}}]', status: 400, message: /all 1 item/ },
  { name: 'properties nested too deeply', body: JSON.stringify([{ name: 'x', properties: deep(40) }]), status: 400, message: /all 1 item/ },
  { name: 'a whole body nested 100k levels', body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, status: 400, message: /nested too deeply/ },
  {
    name: 'invalid UTF-8',
    body: Buffer.from([0x5b, 0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x5d]),
    status: 400,
    message: /not valid UTF-8/,
  },
  {
    name: 'request over the body limit',
    body: JSON.stringify([{ name: 'x', properties: { s: 'x'.repeat(300 * 1024) } }]),
    status: 413,
    message: /exceeds the limit of 262144 bytes/,
  },
  {
    name: 'one item over the item limit',
    body: JSON.stringify([{ name: 'ok' }, { name: 'x', properties: { s: 'y'.repeat(20 * 1024) } }]),
    status: 413,
    message: /index 1/,
  },
  {
    name: 'too many items',
    body: JSON.stringify(Array.from({ length: 101 }, () => ({ name: 'x' }))),
    status: 413,
    message: /101 items exceeds the limit of 100/,
  },
  {
    name: 'gzip bomb',
    body: zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)),
    headers: { 'content-encoding': 'gzip' },
    status: 413,
    message: /after decompression/,
  },
  { name: 'corrupt gzip', body: Buffer.from('definitely not gzip'), headers: { 'content-encoding': 'gzip' }, status: 400, message: /cannot decompress/ },
  { name: 'unknown content encoding', body: '[]', headers: { 'content-encoding': 'zstd-ish' }, status: 400, message: /unsupported Content-Encoding/ },
  { name: 'no API key', body: valid('x'), key: 'none', status: 401, message: /missing API key/ },
  { name: 'wrong API key', body: valid('x'), key: 'wrong', status: 401, message: /invalid or revoked/ },
  { name: 'key of a deleted project', body: valid('x'), key: 'gone', status: 401, message: /invalid or revoked/ },
  { name: 'read key used for ingest', body: valid('x'), key: 'read', status: 403, message: /role "read"; "ingest" is needed/ },
  { name: 'metric with a text value', path: '/v1/metrics', body: '[{"name":"cpu","value":"high"}]', status: 400, message: /value/ },
  { name: 'log with an unknown level', path: '/v1/logs', body: '[{"level":"LOUD","message":"x"}]', status: 400, message: /level/ },
  { name: 'unknown route', path: '/v1/nope', body: '[]', status: 404, message: /no route POST \/v1\/nope/ },
];

describe('each malformed request gets its status and a message naming the problem', () => {
  test.each(cases)('$name → $status', async (c) => {
    const key = c.key ?? 'ingest';
    const auth = key === 'none' ? {} : key === 'wrong' ? bearer('tm_ingest_not-a-real-key') : key === 'gone' ? bearer(goneKey) : bearer(stack.keys[key]);
    const r = await post(`${collector.url}${c.path ?? '/v1/events'}`, c.body, { ...auth, ...c.headers });
    expect(r.status).toBe(c.status);
    const error = r.json.error as { message: string; code: string };
    expect(error.message).toMatch(c.message);
    expect(typeof error.code).toBe('string');
  });
});

test('row-level errors: valid items are stored, invalid ones listed by index and reason', async () => {
  const body = JSON.stringify([
    { name: 'mixed', distinct_id: 'ok-1' },
    { name: 'mixed', event_id: 'not-a-uuid' },
    { name: 'mixed', timestamp: 'not a date' },
    { name: 'mixed', distinct_id: 'ok-2' },
  ]);
  const r = await post(`${collector.url}/v1/events`, body, bearer(stack.keys.ingest));
  expect(r.status).toBe(200);
  expect(r.json.accepted).toBe(2);
  expect(r.json.rejected).toEqual([
    { index: 1, reason: expect.stringMatching(/^event_id: /) },
    { index: 2, reason: expect.stringMatching(/^timestamp .* is not an ISO 8601 date/) },
  ]);
  expect(await stack.rows("SELECT distinct_id FROM events_raw_v1 WHERE name = 'mixed' ORDER BY distinct_id")).toEqual([
    { distinct_id: 'ok-1' },
    { distinct_id: 'ok-2' },
  ]);
});

test('rate limit answers 429 with Retry-After', async () => {
  const body = JSON.stringify(Array.from({ length: 4 }, () => ({ name: 'rl' })));
  const first = await post(`${limited.url}/v1/events`, body, bearer(stack.keys.ingest));
  const second = await post(`${limited.url}/v1/events`, body, bearer(stack.keys.ingest));
  const statuses = [first.status, second.status];
  // Both requests fall in the same or adjacent seconds; at least one crosses 5 items/s.
  if (statuses[1] === 200) {
    const third = await post(`${limited.url}/v1/events`, body, bearer(stack.keys.ingest));
    statuses.push(third.status);
    expect(third.headers['retry-after']).toBe('1');
  } else {
    expect(second.headers['retry-after']).toBe('1');
    expect((second.json.error as { code: string }).code).toBe('RATE_LIMITED');
  }
  expect(statuses).toContain(429);
});

test('after all of that the service still serves and the valid data is intact', async () => {
  const tags = Array.from({ length: 10 }, (_, i) => `intact-${i}`);
  for (const t of tags) expect((await post(`${collector.url}/v1/events`, valid(t), bearer(stack.keys.ingest))).status).toBe(200);
  const rows = await stack.rows<{ distinct_id: string }>(
    "SELECT distinct_id FROM events_raw_v1 WHERE name = 'valid' AND startsWith(distinct_id, 'intact-') ORDER BY distinct_id",
  );
  expect(rows.map((r) => r.distinct_id)).toEqual([...tags].sort());
  // Nothing from the refused requests was stored.
  expect(await stack.rows("SELECT count() AS c FROM events_raw_v1 WHERE name IN ('x', 'ok', 'a') AND project_id = {p:String}", { p: stack.project })).toEqual([
    { c: '0' },
  ]);
});
