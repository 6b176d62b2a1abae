/** The ops server at a signal: /ready says 503 at once, /health and /metrics keep answering. */
import { createLogger, createMetricsRegistry, startOpsServer } from '../src';

test('once stopping, /ready answers 503 "stopping" without running its checks; /health and /metrics still answer', async () => {
  let stopping = false;
  let checksRun = 0;
  const ops = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    metrics: createMetricsRegistry({ role: 'test' }),
    logger: createLogger({ level: 'silent' }),
    ready: { store: async () => void checksRun++ },
    stopping: () => stopping,
  });
  try {
    const before = await fetch(`${ops.url}/ready`);
    expect(before.status).toBe(200);
    expect(checksRun).toBe(1);
    stopping = true;
    const after = await fetch(`${ops.url}/ready`);
    expect(after.status).toBe(503);
    expect(await after.json()).toEqual({ status: 'stopping', checks: {} });
    expect(checksRun).toBe(1);
    expect((await fetch(`${ops.url}/health`)).status).toBe(200);
    const metrics = await fetch(`${ops.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);
  } finally {
    await ops.close();
  }
});
