/**
 * Health checks of a real loopback HTTP service that goes up, down (port
 * closed), sick (503), unresponsive and up again, checked over HTTP and
 * TCP; the samples reach ClickHouse through the real collector.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthProbe, type HealthTarget } from '../src';
import { logger, sleep, startStack, type Stack } from './harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** The service under watch: answers /health with 200, 503, or not at all, and can be stopped and started on its port. */
class Service {
  mode: 'ok' | 'sick' | 'hang' = 'ok';
  port = 0;
  private server: http.Server | undefined;

  async start(): Promise<void> {
    const s = http.createServer((req, res) => {
      if (this.mode === 'hang') return; // accepts, never answers
      res.writeHead(this.mode === 'ok' ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(this.mode);
    });
    await new Promise<void>((r) => s.listen(this.port, '127.0.0.1', () => r()));
    this.port = (s.address() as AddressInfo).port;
    this.server = s;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await new Promise<void>((r) => {
      s?.close(() => r());
      s?.closeAllConnections();
    });
  }
}

test('a service going up and down shows in healthcheck_up, latency, status code and availability, with a log line per change', async () => {
  const svc = new Service();
  await svc.start();
  const client = stack.client();
  const targets: HealthTarget[] = [
    { name: 'svc', kind: 'http', url: `http://127.0.0.1:${svc.port}/health` },
    { name: 'svc-tcp', kind: 'tcp', url: `tcp://127.0.0.1:${svc.port}` },
  ];
  const probe = new HealthProbe(targets, client, 1_000, 1_000, logger);
  const timeline: string[] = [];
  const check = async (what: string): Promise<void> => {
    timeline.push(what);
    await probe.run();
    await sleep(5); // distinct timestamps per round
  };
  try {
    await check('up');
    await svc.stop();
    await check('stopped');
    svc.mode = 'sick';
    await svc.start();
    await check('503');
    svc.mode = 'hang';
    await check('hanging');
    svc.mode = 'ok';
    await check('up again');
  } finally {
    await svc.stop();
  }
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);

  const series = async (name: string, target: string): Promise<number[]> =>
    (
      await stack.rows<{ value: number }>(
        "SELECT value FROM metrics_raw_v1 WHERE name = {name:String} AND labels['target'] = {target:String} ORDER BY timestamp",
        { name, target },
      )
    ).map((r) => r.value);
  expect(await series('healthcheck_up', 'svc')).toEqual([1, 0, 0, 0, 1]);
  expect(await series('healthcheck_up', 'svc-tcp')).toEqual([1, 0, 1, 1, 1]);
  expect(await series('healthcheck_status_code', 'svc')).toEqual([200, 0, 503, 0, 200]);
  expect(await series('healthcheck_availability_percent', 'svc')).toEqual([100, 50, (1 / 3) * 100, 25, 40]);
  expect(await series('healthcheck_availability_percent', 'svc-tcp')).toEqual([100, 50, (2 / 3) * 100, 75, 80]);
  // Latency only where there was an answer worth timing.
  const latency = await series('healthcheck_latency_ms', 'svc');
  expect(latency).toHaveLength(2);
  for (const ms of latency) expect(ms).toBeGreaterThan(0);
  const kinds = await stack.rows<{ kind: string }>("SELECT DISTINCT labels['kind'] AS kind FROM metrics_raw_v1 WHERE name = 'healthcheck_up' ORDER BY kind");
  expect(kinds.map((k) => k.kind)).toEqual(['http', 'tcp']);

  const logs = await stack.rows<{ level: string; message: string }>(
    "SELECT level, message FROM logs_raw_v1 WHERE service = 'tidemark-monitor' ORDER BY timestamp, message",
  );
  expect(logs).toEqual([
    { level: 'WARN', message: expect.stringMatching(/^health check svc is down: ECONNREFUSED/) },
    { level: 'WARN', message: expect.stringMatching(/^health check svc-tcp is down: ECONNREFUSED/) },
    { level: 'INFO', message: 'health check svc-tcp is up again' },
    { level: 'INFO', message: 'health check svc is up again' },
  ]);
  expect(timeline).toEqual(['up', 'stopped', '503', 'hanging', 'up again']);
});
