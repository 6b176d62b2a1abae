/**
 * The ops server every role without its own port runs (packages/core
 * http/ops.ts) with readiness checks against the real ClickHouse,
 * Postgres, Redis and Kafka; and the Prometheus scrape probe reading that
 * very /metrics page into ClickHouse through the real collector.
 */
import http from 'node:http';
import { counter, createMetricsRegistry, histogram, RedisStore, startOpsServer, storeReadyChecks, type OpsServer } from '@tidemark/core';
import { ScrapeProbe } from '../src';
import { closedPort, kafkaBrokers, latest, logger, redisUrl, startStack, type Stack } from './harness';

let stack: Stack;
let kv: RedisStore;

beforeAll(async () => {
  stack = await startStack();
  kv = new RedisStore(redisUrl);
});

afterAll(async () => {
  await kv?.close();
  await stack?.close();
});

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/health, /ready with every store reachable, /ready naming the one that is not, /metrics, and nothing else', async () => {
  const registry = createMetricsRegistry({ role: 'test' });
  const checks = storeReadyChecks({ clickhouse: stack.ch, meta: stack.meta, kv, kafkaBrokers });
  expect(Object.keys(checks).sort()).toEqual(['clickhouse', 'kafka', 'kv', 'postgres']);
  const ops = await startOpsServer({ host: '127.0.0.1', port: 0, metrics: registry, ready: checks, logger });
  const deadKafka = `127.0.0.1:${await closedPort()}`;
  const notReady = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    metrics: registry,
    ready: { ...storeReadyChecks({ meta: stack.meta, kafkaBrokers: deadKafka }), slow: () => new Promise((r) => setTimeout(r, 5_000).unref()) },
    logger,
    checkTimeoutMs: 300,
  });
  try {
    const health = await get(`${ops.url}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });

    const ready = await get(`${ops.url}/ready`);
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.body) as { status: string; checks: Record<string, { ok: boolean; ms: number }> };
    expect(body.status).toBe('ready');
    for (const name of ['clickhouse', 'postgres', 'kv', 'kafka']) expect(body.checks[name]).toMatchObject({ ok: true });

    const t0 = Date.now();
    const notReadyAnswer = await get(`${notReady.url}/ready`);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(notReadyAnswer.status).toBe(503);
    expect(JSON.parse(notReadyAnswer.body)).toMatchObject({
      status: 'not ready',
      checks: {
        postgres: { ok: true },
        kafka: { ok: false, error: expect.stringContaining('no Kafka broker accepts connections') },
        slow: { ok: false, error: 'no answer within 300 ms' },
      },
    });
    // Liveness does not depend on the stores.
    expect((await get(`${notReady.url}/health`)).status).toBe(200);

    const metrics = await get(`${ops.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.body).toContain('tidemark_process_cpu_user_seconds_total{role="test"}');
    expect((await get(`${ops.url}/metrics`, 'HEAD')).body).toBe('');
    expect((await get(`${ops.url}/nope`)).status).toBe(404);
    expect((await get(`${ops.url}/health`, 'POST')).status).toBe(405);
  } finally {
    await ops.close();
    await notReady.close();
  }
});

test('scraping a Prometheus endpoint: counters, gauges and histogram series land as samples with job and instance', async () => {
  const registry = createMetricsRegistry();
  const c = counter(registry, 'orders_total', 'Orders', ['channel']);
  c.inc({ channel: 'web' }, 5);
  c.inc({ channel: 'app' }, 2);
  const h = histogram(registry, 'checkout_seconds', 'Checkout time', ['job'], [0.1, 1]);
  h.observe({ job: 'shop' }, 0.05);
  h.observe({ job: 'shop' }, 0.5);
  const ops: OpsServer = await startOpsServer({ host: '127.0.0.1', port: 0, metrics: registry, logger });
  const client = stack.client({ maxBatchSize: 2_000 });
  const probe = new ScrapeProbe(
    [
      { name: 'shop', url: `${ops.url}/metrics` },
      { name: 'gone', url: `http://127.0.0.1:${await closedPort()}/metrics` },
    ],
    client,
    1_000,
    1_000,
    logger,
  );
  try {
    await probe.run();
  } finally {
    await ops.close();
  }
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
  const instance = new URL(ops.url).host;
  expect(await latest(stack, 'scrape_up', ['job'])).toEqual({ shop: 1, gone: 0 });
  expect((await latest(stack, 'scrape_samples', ['job'])).shop).toBeGreaterThan(20);
  const orders = await stack.rows<{ type: string; labels: Record<string, string>; value: number }>(
    "SELECT toString(type) AS type, labels, value FROM metrics_raw_v1 WHERE name = 'orders_total' ORDER BY value",
  );
  expect(orders).toEqual([
    { type: 'counter', labels: { channel: 'app', job: 'shop', instance }, value: 2 },
    { type: 'counter', labels: { channel: 'web', job: 'shop', instance }, value: 5 },
  ]);
  const buckets = await stack.rows<{ le: string; value: number; exported: string }>(
    "SELECT labels['le'] AS le, value, labels['exported_job'] AS exported FROM metrics_raw_v1 WHERE name = 'checkout_seconds_bucket' ORDER BY le",
  );
  expect(buckets).toEqual([
    { le: '+Inf', value: 2, exported: 'shop' },
    { le: '0.1', value: 1, exported: 'shop' },
    { le: '1', value: 2, exported: 'shop' },
  ]);
  expect(await latest(stack, 'checkout_seconds_count', ['job'])).toEqual({ shop: 2 });
  const gauge = await stack.rows<{ type: string }>(
    "SELECT DISTINCT toString(type) AS type FROM metrics_raw_v1 WHERE name = 'tidemark_nodejs_eventloop_lag_seconds'",
  );
  expect(gauge).toEqual([{ type: 'gauge' }]);
});
