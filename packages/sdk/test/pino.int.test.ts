/**
 * The pino transport for real: pino resolves '@tidemark/sdk/pino' from this
 * file the way it would in an application (through node_modules and the
 * package's "exports"), runs it in its worker thread, and the lines land in
 * ClickHouse through the real collector, including lines logged while the
 * collector was down. When the application exits, pino's exit hook ends the
 * transport and what is queued is delivered first.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { sleep, startCollector, startStack, type Collector, type Stack } from './harness';

let stack: Stack;
let collector: Collector;

/** The worker runs the built module; a stale build would test old code. */
function assertBuildIsFresh(): string {
  const built = path.join(__dirname, '..', 'dist', 'pino', 'transport.js');
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: run npm run build -w @tidemark/sdk first (pino loads the transport from dist)`);
  const newestSrc = Math.max(
    ...fs.readdirSync(path.join(__dirname, '..', 'src'), { recursive: true }).map((f) => fs.statSync(path.join(__dirname, '..', 'src', String(f))).mtimeMs),
  );
  if (fs.statSync(built).mtimeMs + 1 < newestSrc)
    throw new Error('packages/sdk/dist is older than src: run npm run build -w @tidemark/sdk first (pino loads the transport from dist)');
  return built;
}

beforeAll(async () => {
  stack = await startStack();
  collector = await startCollector(stack);
});

afterAll(async () => {
  await collector?.close();
  await stack?.close();
});

test("'@tidemark/sdk/pino' resolves like an installed package's subpath export", () => {
  const built = assertBuildIsFresh();
  expect(fs.realpathSync(require.resolve('@tidemark/sdk/pino'))).toBe(fs.realpathSync(built));
});

test('pino lines ship in batches, survive a collector outage, and are all delivered when the application exits', async () => {
  assertBuildIsFresh();
  const options = {
    endpoint: collector.url,
    apiKey: stack.keys.ingest,
    service: 'pino-app',
    flushIntervalMs: 100,
    retry: { initialDelayMs: 100, maxDelayMs: 500 },
    shutdownTimeoutMs: 5_000,
  };
  // The application runs in its own process: ending a pino transport blocks the ending thread
  // until the worker has delivered, so it must not be the thread serving the collector.
  const app = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'pino-app.js')], {
    env: { ...process.env, PINO_APP_OPTIONS: JSON.stringify(options) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  app.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = readline.createInterface({ input: app.stdout });
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  lines.on('line', (line) => {
    const i = waiting.findIndex((w) => line.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
  });
  const next = (prefix: string): Promise<string> => new Promise((resolve) => waiting.push({ prefix, resolve }));
  const exited = once(app, 'exit');
  const step = async (name: string): Promise<void> => {
    const done = next(`done ${name}`);
    app.stdin.write(`${name}\n`);
    await done;
  };
  try {
    await next('ready');
    await step('start');
    expect(await stack.waitFor('SELECT count() AS n FROM logs_raw_v1', 200, 15_000)).toBe(200);

    await collector.stop();
    await step('down');
    await sleep(2_000);
    await collector.start();
    const exitLine = next('exited');
    const t0 = Date.now();
    await step('exit');
    const [code] = await exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // pino's exit hook ended the transport: the worker delivered within shutdownTimeoutMs.
    expect(Number((await exitLine).split(' ')[1]) - t0).toBeLessThan(5_000);
  } finally {
    if (app.exitCode === null) app.kill('SIGKILL');
  }

  const rows = await stack.rows<{ message: string; level: string; n: string }>(
    'SELECT message, level, count() AS n FROM logs_raw_v1 GROUP BY message, level ORDER BY message',
  );
  expect(rows).toEqual([
    { message: 'after', level: 'INFO', n: '100' },
    { message: 'hello', level: 'INFO', n: '1' },
    { message: 'payment failed', level: 'ERROR', n: '1' },
    { message: 'tick', level: 'DEBUG', n: '198' },
    { message: 'while down', level: 'WARN', n: '300' },
  ]);
  const hello = await stack.rows<{ service: string; attributes: Record<string, string>; request_id: string }>(
    "SELECT service, attributes, request_id FROM logs_raw_v1 WHERE message = 'hello'",
  );
  expect(hello[0]).toMatchObject({ service: 'pino-app', request_id: 'req-1', attributes: { user: 'u1' } });
  const failed = await stack.rows<{ err: string }>("SELECT attributes['err'] AS err FROM logs_raw_v1 WHERE message = 'payment failed'");
  expect(JSON.parse(failed[0]!.err)).toMatchObject({ type: 'Error', message: 'boom' });
  // Each "while down" line exactly once: nothing was lost or doubled by the resends.
  const down = await stack.rows<{ n: string }>("SELECT uniqExact(attributes['i']) AS n FROM logs_raw_v1 WHERE message = 'while down'");
  expect(down[0]!.n).toBe('300');
});
