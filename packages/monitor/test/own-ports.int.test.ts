/**
 * The monitor waits for the platform's own ports before its first check of
 * them: in one process it starts before the API listens, and used to record
 * a false "down" (healthcheck_up 0) at every start.
 */
import http from 'node:http';
import path from 'node:path';
import { createMetricsRegistry, Lifecycle, parseConfig, MemoryStore } from '@tidemark/core';
import { monitorRole, monitorRoleConfigSchema } from '../src';
import { ownTargets } from '../src/schedule/own-ports';
import { closedPort, logger, sleep, startStack, type Stack } from './harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

test('own targets: a platform port on this machine, not another host or port', () => {
  const urls = [
    'http://127.0.0.1:4000/health',
    'http://localhost:4318/health',
    'tcp://10.0.0.5:4000',
    'https://shop.example.com/health',
    'http://127.0.0.1:9999/x',
    'http://[::1]:9464/metrics',
  ];
  expect(ownTargets(urls, [4000, 4318, 9464], '0.0.0.0')).toEqual([
    { host: '127.0.0.1', port: 4000 },
    { host: 'localhost', port: 4318 },
    { host: '::1', port: 9464 },
  ]);
  expect(ownTargets(['http://tidemark.internal:4000/health'], [4000], 'tidemark.internal')).toEqual([{ host: 'tidemark.internal', port: 4000 }]);
});

test('the API port opening two seconds after the monitor starts is never recorded down', async () => {
  const port = await closedPort();
  const ctx = {
    config: parseConfig(monitorRoleConfigSchema, {
      TIDEMARK_DATA_DIR: path.join(stack.dataDir, 'own-ports'),
      ...stack.server.configEnv(),
      API_PORT: String(port),
      MONITOR_COLLECTOR_URL: stack.collectorUrl,
      MONITOR_PROJECT: stack.project,
      MONITOR_SYSTEM_INTERVAL_MS: '0',
      MONITOR_WATCH_PLATFORM: 'false',
      MONITOR_HEALTHCHECK_TARGETS: `api=http://127.0.0.1:${port}/health`,
      MONITOR_HEALTHCHECK_INTERVAL_MS: '500',
    }),
    logger,
    lifecycle: new Lifecycle(logger, 10_000),
    clickhouse: stack.ch,
    meta: stack.meta,
    kv: new MemoryStore(),
    metrics: createMetricsRegistry(),
  };
  const api = http.createServer((_req, res) => res.end('ok'));
  try {
    await monitorRole.start(ctx);
    await sleep(2_000);
    await new Promise<void>((r) => api.listen(port, '127.0.0.1', () => r()));
    await sleep(2_500);
  } finally {
    await ctx.lifecycle.stop('test done');
    await new Promise<void>((r) => api.close(() => r()));
  }
  const samples = await stack.rows<{ v: number }>(
    "SELECT value AS v FROM metrics_raw_v1 WHERE project_id = {p:String} AND name = 'healthcheck_up' AND labels['target'] = 'api' ORDER BY timestamp",
    { p: stack.project },
  );
  expect(samples.length).toBeGreaterThanOrEqual(2);
  expect(samples.every((s) => Number(s.v) === 1)).toBe(true);
});
