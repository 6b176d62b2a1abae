/**
 * Client resends (same event_id after a lost answer) are dropped within the
 * resend window, so the rollups count each event once; across collector
 * replicas through the real Redis; a failed write stays resendable.
 */
import crypto from 'node:crypto';
import { MemoryStore, RedisStore } from '@tidemark/core';
import { ClickHouseSink, ResendWindow } from '../src';
import { bearer, logger, post, startCollector, startStack, type RunningCollector, type Stack } from './harness';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let stack: Stack;
let sink: ClickHouseSink;
let redis: RedisStore;
const running: RunningCollector[] = [];

beforeAll(async () => {
  stack = await startStack();
  sink = new ClickHouseSink(stack.ch, logger, { maxRows: 50_000, maxDelayMs: 20, maxPendingRows: 500_000, maxConcurrentFlushes: 2 });
  redis = new RedisStore(redisUrl);
  if (!(await redis.ping())) throw new Error(`Redis at ${redisUrl} does not answer`);
});

afterAll(async () => {
  for (const c of running) await c.close();
  await sink?.close();
  await redis?.close();
  await stack?.close();
});

async function collectorWith(kv: MemoryStore | RedisStore, windowMs = 60_000): Promise<RunningCollector> {
  const c = await startCollector(stack, sink, {}, kv, new ResendWindow(kv, { windowMs, maxIdsPerBucket: 100_000 }, logger));
  running.push(c);
  return c;
}

const events = (name: string, ids: string[]) => ids.map((event_id, i) => ({ event_id, name, distinct_id: `u${i}`, properties: { ms: 5 } }));
const ids = (n: number) => Array.from({ length: n }, () => crypto.randomUUID());
const totals = async (name: string) => {
  const [raw] = await stack.rows<{ c: string }>('SELECT count() AS c FROM events_raw_v1 WHERE name = {name:String}', { name });
  const [m1] = await stack.rows<{ c: string }>('SELECT sum(events) AS c FROM events_1m_v1 WHERE name = {name:String}', { name });
  const [d1] = await stack.rows<{ c: string }>('SELECT sum(events) AS c FROM events_1d_v1 WHERE name = {name:String}', { name });
  return [Number(raw?.c), Number(m1?.c), Number(d1?.c)];
};

test('a resent batch is dropped and reported; new events next to it land; rollups count each event once', async () => {
  const c = await collectorWith(new MemoryStore());
  const name = `resend-${crypto.randomUUID().slice(0, 8)}`;
  const first = ids(100);
  const a = await post(`${c.url}/v1/events`, JSON.stringify(events(name, first)), bearer(stack.keys.ingest));
  expect(a.json).toMatchObject({ accepted: 100, duplicates: 0 });
  // The SDK lost the answer and sends the same events again, with 50 new ones.
  const b = await post(`${c.url}/v1/events`, JSON.stringify([...events(name, first), ...events(name, ids(50))]), bearer(stack.keys.ingest));
  expect(b.status).toBe(200);
  expect(b.json).toMatchObject({ accepted: 50, duplicates: 100, rejected: [] });
  // An id repeated inside one request, in upper case: stored once.
  const dup = crypto.randomUUID();
  const d = await post(`${c.url}/v1/events`, JSON.stringify(events(name, [dup, dup.toUpperCase()])), bearer(stack.keys.ingest));
  expect(d.json).toMatchObject({ accepted: 1, duplicates: 1 });
  // Events without an id get one from the collector and never take part.
  const e = await post(`${c.url}/v1/events`, JSON.stringify([{ name }, { name }]), bearer(stack.keys.ingest));
  expect(e.json).toMatchObject({ accepted: 2, duplicates: 0 });
  expect(await totals(name)).toEqual([153, 153, 153]);
});

test('two collectors sharing Redis: a resend to the other replica is dropped too', async () => {
  const c1 = await collectorWith(redis);
  const c2 = await collectorWith(redis);
  const name = `resend-redis-${crypto.randomUUID().slice(0, 8)}`;
  const batch = ids(40);
  expect((await post(`${c1.url}/v1/events`, JSON.stringify(events(name, batch)), bearer(stack.keys.ingest))).json).toMatchObject({
    accepted: 40,
    duplicates: 0,
  });
  expect((await post(`${c2.url}/v1/events`, JSON.stringify(events(name, batch)), bearer(stack.keys.ingest))).json).toMatchObject({
    accepted: 0,
    duplicates: 40,
  });
  expect(await totals(name)).toEqual([40, 40, 40]);
});

test('a write that failed (ClickHouse down, 503) is not remembered: its resend lands', async () => {
  const c = await collectorWith(new MemoryStore());
  const name = `resend-fail-${crypto.randomUUID().slice(0, 8)}`;
  const batch = ids(5);
  await stack.stopClickHouse();
  try {
    const r = await post(`${c.url}/v1/events`, JSON.stringify(events(name, batch)), bearer(stack.keys.ingest));
    expect(r.status).toBe(503);
  } finally {
    await stack.startClickHouse();
  }
  const again = await post(`${c.url}/v1/events`, JSON.stringify(events(name, batch)), bearer(stack.keys.ingest));
  expect(again.json).toMatchObject({ accepted: 5, duplicates: 0 });
  expect(await totals(name)).toEqual([5, 5, 5]);
}, 120_000);

test('the window: an id is remembered for at least half of it and forgotten after it', async () => {
  const w = new ResendWindow(new MemoryStore(), { windowMs: 10_000, maxIdsPerBucket: 3 }, logger);
  const t0 = 1_000_000_000_000; // a bucket boundary of 5 s buckets
  await w.remember('p', ['a', 'b'], t0 + 100);
  expect(await w.seen('p', ['a', 'b', 'c'], t0 + 4_900)).toEqual([true, true, false]);
  expect(await w.seen('p', ['a'], t0 + 9_900)).toEqual([true]); // previous bucket
  expect(await w.seen('p', ['a', 'b'], t0 + 10_100)).toEqual([false, false]); // two buckets on: forgotten
  expect(await w.seen('other-project', ['a'], t0 + 200)).toEqual([false]);
  // The per-bucket cap: only one more id fits into this bucket.
  await w.remember('p', ['c', 'd'], t0 + 200);
  expect(await w.seen('p', ['c', 'd'], t0 + 300)).toEqual([true, false]);
  const off = new ResendWindow(new MemoryStore(), { windowMs: 0, maxIdsPerBucket: 10 }, logger);
  await off.remember('p', ['x']);
  expect(await off.seen('p', ['x'])).toEqual([false]);
});
