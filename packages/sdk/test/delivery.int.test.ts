/**
 * The SDK against the real collector (packages/collector's HTTP app, chDB,
 * Postgres keys): what lands, an outage of the collector, a full queue,
 * 429/503 with Retry-After, 401 without retries, shutdown's deadline, and
 * that the host application never sees an exception.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { TidemarkClient, type RetryInfo, type TidemarkOptions, type TidemarkSdkError } from '../src';
import { closedPort, embeddedSink, sleep, startCollector, startStack, watchProcessErrors, type Collector, type Stack } from './harness';

/** How long the collector stays down in the outage test (the requirement: 30 s). */
const OUTAGE_MS = Number(process.env.SDK_OUTAGE_MS ?? 30_000);

let stack: Stack;
let collector: Collector;
const clients: TidemarkClient[] = [];

beforeAll(async () => {
  stack = await startStack();
  collector = await startCollector(stack);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.shutdown(1_000)));
  await collector?.close();
  await stack?.close();
});

function client(opts: Partial<TidemarkOptions> = {}, url = collector.url): TidemarkClient {
  const c = new TidemarkClient({ endpoint: url, apiKey: stack.keys.ingest, flushIntervalMs: 100, metricsIntervalMs: 0, flushOnExit: false, ...opts });
  clients.push(c);
  return c;
}

const count = async (where: string, params: Record<string, unknown> = {}): Promise<{ n: number; ids: number }> => {
  const r = await stack.rows<{ n: string; ids: string }>(`SELECT count() AS n, uniqExact(event_id) AS ids FROM events_raw_v1 WHERE ${where}`, params);
  return { n: Number(r[0]?.n), ids: Number(r[0]?.ids) };
};

test('events, identify, sessions, metrics and logs land with their fields', async () => {
  const errors: TidemarkSdkError[] = [];
  const c = client({ context: { product: 'chatbot', channel: 'web' }, service: 'api', defaultLabels: { service: 'api' }, onError: (e) => errors.push(e) });
  const id = c.track(
    'message.ai',
    { response_time: 812, tokens: 120 },
    { distinctId: 'u1', sessionId: 's1', context: { os: 'linux', app_version: '1.2.3' }, timestamp: new Date(Date.now() - 60_000) },
  );
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  c.identify('u2', { plan: 'pro' });
  c.track('page_view', { path: '/pricing' });
  const s = c.session({ distinctId: 'u3' });
  s.track('message.user', { length: 5 });
  s.end({ reason: 'closed' });
  const orders = c.counter('orders_total');
  orders.inc({ channel: 'web' });
  orders.inc({ channel: 'web' }, 2);
  orders.inc({ channel: 'app' });
  c.gauge('queue_depth').set(7);
  const h = c.histogram('task_ms');
  h.observe({ task: 'a' }, 10);
  h.observe({ task: 'a' }, 30);
  c.log('warn', 'disk low', { free_gb: 3 }, { requestId: 'r-1' });
  expect(await c.flush({ timeoutMs: 15_000 })).toBe(true);
  expect(errors).toEqual([]);

  const events = await stack.rows<Record<string, string>>(
    `SELECT toString(event_id) AS event_id, name, distinct_id, session_id, properties, product, channel, os, app_version, toString(measures['response_time']) AS rt,
            dateDiff('second', timestamp, now()) AS age FROM events_raw_v1 ORDER BY timestamp, name`,
  );
  const byName = Object.fromEntries(events.map((e) => [e.name, e]));
  expect(byName['message.ai']).toMatchObject({
    event_id: id,
    distinct_id: 'u1',
    session_id: 's1',
    product: 'chatbot',
    channel: 'web',
    os: 'linux',
    app_version: '1.2.3',
    rt: '812',
  });
  expect(Number(byName['message.ai']!.age)).toBeGreaterThanOrEqual(55);
  expect(byName.$identify).toMatchObject({ distinct_id: 'u2', properties: '{"plan":"pro"}' });
  expect(byName.page_view).toMatchObject({ distinct_id: 'u2' });
  expect(byName['session.start']).toMatchObject({ distinct_id: 'u3', session_id: s.id });
  expect(byName['message.user']).toMatchObject({ distinct_id: 'u3', session_id: s.id });
  expect(JSON.parse(byName['session.end']!.properties!)).toMatchObject({ session_id: s.id, reason: 'closed', duration_ms: expect.any(Number) });

  const metrics = await stack.rows<{ name: string; type: string; labels: Record<string, string>; value: number }>(
    'SELECT name, toString(type) AS type, labels, value FROM metrics_raw_v1 ORDER BY name, labels_key, value',
  );
  expect(metrics.filter((m) => m.name === 'orders_total').map((m) => [m.type, m.labels.channel, m.labels.service, m.value])).toEqual([
    ['counter', 'app', 'api', 1],
    ['counter', 'web', 'api', 3],
  ]);
  expect(metrics.filter((m) => m.name === 'queue_depth').map((m) => m.value)).toEqual([7]);
  expect(metrics.filter((m) => m.name === 'task_ms').map((m) => [m.type, m.labels.task, m.value])).toEqual([
    ['histogram', 'a', 10],
    ['histogram', 'a', 30],
  ]);
  const logs = await stack.rows<Record<string, unknown>>('SELECT level, service, message, attributes, request_id FROM logs_raw_v1');
  expect(logs).toEqual([{ level: 'WARN', service: 'api', message: 'disk low', attributes: { free_gb: '3' }, request_id: 'r-1' }]);
});

test(
  `a collector down for ${OUTAGE_MS / 1000} s gets every event queued meanwhile exactly once; a full queue drops the oldest and counts them`,
  async () => {
    const retryOpts = { initialDelayMs: 100, maxDelayMs: 2_000 };
    const retries: RetryInfo[] = [];
    const big = client({ maxQueueSize: 10_000, retry: retryOpts, onRetry: (i) => retries.push(i) });
    const bound = 300;
    const small = client({ maxQueueSize: bound, retry: retryOpts });
    big.track('outage.before', { i: -1 });
    expect(await big.flush({ timeoutMs: 10_000 })).toBe(true);

    await collector.stop();
    const downAt = Date.now();
    const perBurst = 400;
    const bursts = 12;
    let tracked = 0;
    for (let b = 0; b < bursts; b++) {
      // The last burst is tracked while nothing is in flight, so the small queue ends up holding exactly the newest `bound`.
      if (b === bursts - 1) while (small.stats().events.inflight > 0) await sleep(1);
      for (let i = 0; i < perBurst; i++, tracked++) {
        big.track('outage.big', { i: tracked }, { distinctId: `u${tracked % 37}` });
        small.track('outage.small', { i: tracked });
      }
      await sleep(Math.max(0, (OUTAGE_MS * 0.8) / bursts));
    }
    expect(big.stats().events.retries).toBeGreaterThan(0);
    expect(big.stats().events.queued + big.stats().events.inflight).toBe(tracked);
    expect(small.stats().events.dropped).toBe(tracked - bound);
    expect(small.stats().events.queued + small.stats().events.inflight).toBe(bound);
    await sleep(downAt + OUTAGE_MS - Date.now());
    expect(await count("name = 'outage.big'")).toEqual({ n: 0, ids: 0 });
    await collector.start();
    const back = Date.now();

    expect(await big.flush({ timeoutMs: 30_000 })).toBe(true);
    expect(await small.flush({ timeoutMs: 30_000 })).toBe(true);
    expect(Date.now() - back).toBeLessThan(10_000);
    expect(await count("name = 'outage.big'")).toEqual({ n: tracked, ids: tracked });
    const seen = await stack.rows<{ n: string; lo: string; hi: string }>(
      "SELECT uniqExact(JSONExtractInt(properties, 'i')) AS n, min(JSONExtractInt(properties, 'i')) AS lo, max(JSONExtractInt(properties, 'i')) AS hi FROM events_raw_v1 WHERE name = 'outage.big'",
    );
    expect(seen[0]).toEqual({ n: String(tracked), lo: '0', hi: String(tracked - 1) });
    // The small client kept the newest `bound` events: exactly those landed, once each.
    const kept = await stack.rows<{ n: string; ids: string; lo: string; hi: string }>(
      "SELECT count() AS n, uniqExact(event_id) AS ids, min(JSONExtractInt(properties, 'i')) AS lo, max(JSONExtractInt(properties, 'i')) AS hi FROM events_raw_v1 WHERE name = 'outage.small'",
    );
    expect(kept[0]).toEqual({ n: String(bound), ids: String(bound), lo: String(tracked - bound), hi: String(tracked - 1) });
    const st = small.stats().events;
    expect(st).toMatchObject({ sent: bound, dropped: tracked - bound, queued: 0, inflight: 0, rejected: 0, failed: 0 });
    expect(big.stats().events).toMatchObject({ sent: tracked + 1, dropped: 0, rejected: 0, failed: 0 });
    // Backoff grew and stayed under its cap while the collector was away.
    expect(Math.max(...retries.map((r) => r.delayMs))).toBeLessThanOrEqual(2_000);
    expect(retries.every((r) => r.status === undefined)).toBe(true);
  },
  OUTAGE_MS + 90_000,
);

test('429 from the rate limit: Retry-After is honoured and every event lands once', async () => {
  const limited = await startCollector(stack, { limits: { ratePerSecond: 150 } });
  try {
    const retries: RetryInfo[] = [];
    const c = client({ maxBatchSize: 100, maxConcurrentRequests: 1, flushIntervalMs: 20, onRetry: (i) => retries.push(i) }, limited.url);
    for (let i = 0; i < 300; i++) c.track('limited', { i });
    expect(await c.flush({ timeoutMs: 20_000 })).toBe(true);
    expect(retries.length).toBeGreaterThan(0);
    for (const r of retries) {
      expect(r.status).toBe(429);
      expect(r.retryAfterMs).toBe(1_000);
      expect(r.delayMs).toBeGreaterThanOrEqual(1_000);
    }
    expect(await count("name = 'limited'")).toEqual({ n: 300, ids: 300 });
  } finally {
    await limited.close();
  }
});

test('503 while the collector cannot take more: retried after Retry-After, landed once', async () => {
  // A tiny ingest buffer: the second of two concurrent requests finds it full and gets 503.
  const busy = await startCollector(stack, { sink: embeddedSink(stack, { maxPendingRows: 150, maxDelayMs: 400 }) });
  try {
    const retries: RetryInfo[] = [];
    const c = client({ maxBatchSize: 100, maxConcurrentRequests: 2, onRetry: (i) => retries.push(i) }, busy.url);
    for (let i = 0; i < 400; i++) c.track('busy', { i });
    expect(await c.flush({ timeoutMs: 30_000 })).toBe(true);
    expect(retries.some((r) => r.status === 503 && r.delayMs >= 1_000)).toBe(true);
    expect(await count("name = 'busy'")).toEqual({ n: 400, ids: 400 });
  } finally {
    await busy.close();
  }
});

test('a 4xx is not retried: 401 for a bad key costs one request and is reported', async () => {
  const errors: TidemarkSdkError[] = [];
  const before = collector.requests;
  const c = client({ apiKey: 'tm_ingest_not_a_real_key_0000000000000000', onError: (e) => errors.push(e) });
  for (let i = 0; i < 10; i++) c.track('unauthorised', { i });
  expect(await c.flush({ timeoutMs: 10_000 })).toBe(true);
  await sleep(300);
  expect(collector.requests - before).toBe(1);
  expect(c.stats().events).toMatchObject({ sent: 0, rejected: 10, retries: 0, queued: 0 });
  expect(errors.map((e) => [e.code, e.status, e.items])).toEqual([['REJECTED', 401, 10]]);
  expect(await count("name = 'unauthorised'")).toEqual({ n: 0, ids: 0 });
});

test('invalid items are reported one by one, the valid ones of the batch land', async () => {
  const errors: TidemarkSdkError[] = [];
  const c = client({ onError: (e) => errors.push(e) });
  c.track('rowrule.ok', { i: 1 });
  c.track('rowrule.bad', { i: 2 }, { eventId: 'not-a-uuid' });
  c.track('rowrule.ok', { i: 3 });
  expect(await c.flush({ timeoutMs: 10_000 })).toBe(true);
  expect(c.stats().events).toMatchObject({ sent: 2, rejected: 1 });
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ code: 'REJECTED', items: 1 });
  expect(errors[0]!.message).toMatch(/event_id/);
  expect(await count("name LIKE 'rowrule.%'")).toEqual({ n: 2, ids: 2 });
});

test('shutdown(timeout) delivers what is queued within the timeout', async () => {
  // The timer would wait a minute: only shutdown's flush sends these.
  const c = client({ flushIntervalMs: 60_000, maxBatchSize: 1_000 });
  for (let i = 0; i < 5_000; i++) c.track('shutdown.flush', { i });
  const t0 = Date.now();
  const stats = await c.shutdown(3_000);
  expect(Date.now() - t0).toBeLessThan(3_000);
  expect(stats.events).toMatchObject({ sent: 5_000, queued: 0, inflight: 0, failed: 0 });
  expect(await count("name = 'shutdown.flush'")).toEqual({ n: 5_000, ids: 5_000 });
  // After shutdown the client takes nothing, and says so.
  expect(c.track('shutdown.after')).toBeUndefined();
});

test('shutdown returns by its timeout when the collector is unreachable or never answers', async () => {
  // A closed port (ECONNREFUSED) ...
  const refused = await closedPort();
  // ... and a server that accepts and never answers.
  const sockets: net.Socket[] = [];
  const blackhole = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
  try {
    for (const url of [`http://127.0.0.1:${refused}`, `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}`]) {
      const errors: TidemarkSdkError[] = [];
      const c = client({ onError: (e) => errors.push(e), requestTimeoutMs: 30_000, flushIntervalMs: 10 }, url);
      for (let i = 0; i < 100; i++) c.track('never', { i });
      await sleep(50);
      const t0 = Date.now();
      const stats = await c.shutdown(1_000);
      const took = Date.now() - t0;
      expect(took).toBeLessThanOrEqual(1_050);
      expect(took).toBeGreaterThanOrEqual(850);
      expect(stats.events).toMatchObject({ sent: 0, failed: 100, queued: 0 });
      expect(errors.some((e) => e.code === 'GAVE_UP' && e.items === 100)).toBe(true);
    }
  } finally {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => blackhole.close(() => r()));
  }
});

test('the host application never sees an exception, whatever it passes or whatever happens to delivery', async () => {
  const watch = watchProcessErrors();
  try {
    const codes = new Set<string>();
    const c = client({
      maxItemBytes: 10_000,
      onError: (e) => {
        codes.add(e.code);
        throw new Error('the application’s own error handler throws');
      },
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const calls: (() => unknown)[] = [
      () => c.track('circular', circular),
      () => c.track('bigint', { n: 10n }),
      () => c.track(undefined as unknown as string),
      () => c.track(42 as unknown as string),
      () => c.track('x'.repeat(500)),
      () => c.track('array-props', [1, 2] as unknown as Record<string, unknown>),
      () => c.track('too-big', { blob: 'y'.repeat(20_000) }),
      () => c.track('bad-time', {}, { timestamp: 'yesterday-ish' }),
      () => c.identify(''),
      () => c.counter('bad name!').inc(),
      () => c.counter('ok_total').inc(-1),
      () => c.counter('ok_total').inc({ 'bad label': 'x' }),
      () => c.gauge('g').set(Number.NaN),
      () => c.gauge('ok_total').set(1),
      () => c.histogram('h_ms').observe(Number.POSITIVE_INFINITY),
      () => c.metric('m', 'nope' as unknown as number),
      () => c.log('loud' as never, 'x'),
      () => c.logLine('not json at all'),
      () => c.with({ distinctId: 'w' }).track('scoped', { ok: true }),
    ];
    for (const call of calls) expect(call).not.toThrow();
    expect(await c.flush({ timeoutMs: 10_000 })).toBe(true);
    // bad-time is refused by the collector (the row rule): reported, not thrown.
    for (const code of ['SERIALIZE_FAILED', 'INVALID_INPUT', 'ITEM_TOO_LARGE', 'REJECTED']) expect(codes).toContain(code);
    await c.shutdown(1_000);
    expect(() => c.track('after-shutdown')).not.toThrow();
    expect(codes).toContain('SHUT_DOWN');

    // A client without usable options is off, and still never throws.
    const offCodes: string[] = [];
    const off = new TidemarkClient({ endpoint: 'ftp://nowhere', apiKey: 'k', onError: (e) => offCodes.push(e.code) });
    expect(() => off.track('x')).not.toThrow();
    expect(off.stats().disabled).toMatch(/http/);
    expect(await off.flush()).toBe(false);
    await off.shutdown(100);
    expect(offCodes).toEqual(['INVALID_OPTIONS']);

    // Delivery failures (unresolvable host) stay inside the SDK too.
    const nowhere = client({ retry: { initialDelayMs: 10, maxDelayMs: 50 } }, 'http://does-not-exist.invalid:4318');
    for (let i = 0; i < 50; i++) nowhere.track('lost', { i });
    await sleep(300);
    await nowhere.shutdown(200);
    await sleep(50);
    expect(watch.errors).toEqual([]);
  } finally {
    watch.dispose();
  }
});
