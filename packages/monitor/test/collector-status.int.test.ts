/**
 * /v1/status, which the monitor's health targets and operators read: a
 * signal that never arrived has no lag (null, with the reason), not the age
 * of the epoch (1,796,396,618 s for logs never ingested).
 */
import path from 'node:path';
import { collectorRole, collectorRoleConfigSchema } from '@tidemark/collector';
import { createMetricsRegistry, Lifecycle, parseConfig, MemoryStore } from '@tidemark/core';
import { logger, startStack, type Stack } from './harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

test('events sent, logs never: events have a lag, logs null with a reason', async () => {
  const ctx = {
    config: parseConfig(collectorRoleConfigSchema, {
      TIDEMARK_DATA_DIR: path.join(stack.dataDir, 'status'),
      ...stack.server.configEnv(),
      COLLECTOR_PORT: '0',
      TIDEMARK_HOST: '127.0.0.1',
    }),
    logger,
    lifecycle: new Lifecycle(logger, 10_000),
    clickhouse: stack.ch,
    meta: stack.meta,
    kv: new MemoryStore(),
    metrics: createMetricsRegistry(),
  };
  try {
    const [endpoint] = await collectorRole.start(ctx);
    const client = stack.client();
    client.track('status.check', {});
    expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
    const res = await fetch(`${endpoint!.url}/v1/status`, { headers: { authorization: `Bearer ${stack.keys.ingest}` } });
    const text = await res.text();
    expect(`${res.status} ${text}`).toMatch(/^200 /);
    const body = JSON.parse(text) as { endToEndLagSeconds: Record<string, number | null>; endToEndLagReasons?: Record<string, string> };
    expect(body.endToEndLagSeconds.events).toBeGreaterThanOrEqual(0);
    expect(body.endToEndLagSeconds.events).toBeLessThan(60);
    expect(body.endToEndLagSeconds.logs).toBeNull();
    expect(body.endToEndLagReasons?.logs).toMatch(/no logs received in the last 24 hours/);
    expect(body.endToEndLagReasons?.events).toBeUndefined();
  } finally {
    await ctx.lifecycle.stop('test done');
  }
});
