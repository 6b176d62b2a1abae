/**
 * Shutdown: drain hooks run together before any stop hook, stop hooks in
 * reverse order with a bounded wait that never skips the last ones, and an
 * HTTP server that answers 503 + Connection: close from the signal on,
 * lets in-flight requests finish and closes keep-alive sockets, on real
 * loopback sockets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../src/log';
import { createGracefulServer, Lifecycle } from '../src/lifecycle';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real pino logger whose lines are kept. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'info' }, dest), lines };
}

test('producers stop first, then drains run together, then stop hooks in reverse; a hook past the deadline does not skip the ones after it', async () => {
  const { logger, lines } = memoryLogger();
  const lifecycle = new Lifecycle(logger, 200);
  const order: string[] = [];
  // Two independent engines, stopped together: 100 ms each, 100 ms in all.
  const engine = (name: string) => async () => {
    order.push(`stop ${name}`);
    await sleep(100);
    order.push(`${name} stopped`);
  };
  lifecycle.onStop('engine', engine('engine'), { group: 'engines' });
  lifecycle.onStop('engine2', engine('engine2'), { group: 'engines' });
  lifecycle.onStop('hangs', () => new Promise<void>(() => order.push('stop hangs (never resolves)')));
  lifecycle.onStop('server', () => void order.push('stop server'));
  // A producer sending to the server above: stopped before anything drains.
  const mark = lifecycle.mark();
  lifecycle.onStop('producer', () => void order.push('stop producer'));
  lifecycle.stopBeforeDrain(mark);
  lifecycle.onDrain('a', async () => {
    order.push('drain a');
    await sleep(30);
  });
  lifecycle.onDrain('b', () => void order.push('drain b'));
  const t0 = Date.now();
  await lifecycle.stop('test');
  const ms = Date.now() - t0;
  expect(order).toEqual([
    'stop producer',
    'drain a',
    'drain b',
    'stop server',
    'stop hangs (never resolves)',
    'stop engine2',
    'stop engine',
    'engine2 stopped',
    'engine stopped',
  ]);
  // The hanging hook used the whole 200 ms; the engines still stopped (bounded by 1 s each), together
  // (the order above: both began before either ended).
  expect(ms).toBeGreaterThanOrEqual(300);
  expect(ms).toBeLessThan(1_000);
  expect(lifecycle.failures).toBe(1);
  expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({
    hooks: ['producer', 'server', 'hangs', 'engine2', 'engine'],
    beforeDrain: ['producer'],
    drains: ['a', 'b'],
  });
  expect(lines.filter((l) => l.msg === 'stopped').map((l) => l.hook)).toEqual(['producer', 'server', 'engine2', 'engine']);
  expect(lines.find((l) => l.msg === 'stop hook failed')).toMatchObject({ hook: 'hangs' });
  // Later calls share the first run.
  await lifecycle.stop('again');
  expect(order).toHaveLength(9);
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function post(url: string, agent: http.Agent, body = '{}'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('graceful server: in-flight requests finish, later ones on a kept-alive socket get a retriable 503 with Connection: close, idle sockets close, stop is quick', async () => {
  const { logger, lines } = memoryLogger();
  const lifecycle = new Lifecycle(logger, 5_000);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const server = createGracefulServer(
    (req, res) => {
      req.resume();
      const answer = (): void => void res.end(JSON.stringify({ ok: true, path: req.url }));
      if (req.url === '/slow') void held.then(answer);
      else answer();
    },
    { name: 'test', lifecycle, logger, graceMs: 2_000 },
  );
  // As long as the collector's: without the sweep, an idle socket would hold the stop for a minute.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const busy = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const gap = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // Both agents hold an open keep-alive socket.
    expect((await post(`${base}/warm`, busy)).status).toBe(200);
    expect((await post(`${base}/warm`, idle)).status).toBe(200);
    const idleSocketClosed = new Promise<void>((r) =>
      Object.values(idle.freeSockets)
        .flat()[0]!
        .once('close', () => r()),
    );
    const slow = post(`${base}/slow`, busy);
    await sleep(50);
    // A busy client between two requests at the signal: answered a moment ago, the next one follows shortly.
    expect((await post(`${base}/just-answered`, gap)).status).toBe(200);
    const t0 = Date.now();
    const stopped = lifecycle.stop('test');
    await sleep(30);
    const gapNext = await post(`${base}/next`, gap);
    expect([gapNext.status, gapNext.headers.connection]).toEqual([503, 'close']);
    await sleep(70);
    release();
    const inFlight = await slow;
    expect(inFlight.status).toBe(200);
    expect(JSON.parse(inFlight.body)).toEqual({ ok: true, path: '/slow' });
    // The busy client's next request, on the same kept-alive socket a little later (as after gzip).
    await sleep(80);
    const refused = await post(`${base}/after`, busy);
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'SHUTTING_DOWN', retriable: true } });
    await idleSocketClosed;
    await stopped;
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(lifecycle.failures).toBe(0);
    expect(lines.find((l) => l.msg === 'http server closed')).toMatchObject({ server: 'test', refused: 2 });
    // Nothing listens any more.
    await expect(post(`${base}/late`, new http.Agent())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  } finally {
    release();
    busy.destroy();
    idle.destroy();
    gap.destroy();
    server.closeAllConnections();
  }
});

test('graceful server: a request that does not finish within the grace period has its connection closed', async () => {
  const { logger } = memoryLogger();
  const lifecycle = new Lifecycle(logger, 5_000);
  const server = createGracefulServer((req) => void req.resume(), { name: 'stuck', lifecycle, logger, graceMs: 300 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const agent = new http.Agent({ keepAlive: true });
  const stuck = post(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, agent).catch((err: NodeJS.ErrnoException) => err.code);
  await sleep(50);
  const t0 = Date.now();
  await lifecycle.stop('test');
  const ms = Date.now() - t0;
  expect(ms).toBeGreaterThanOrEqual(290);
  expect(ms).toBeLessThan(1_500);
  expect(await stuck).toBe('ECONNRESET');
  agent.destroy();
});
