/**
 * A process that starts before its stores (compose, Kubernetes, a restart
 * during an outage) waits for them with backoff instead of exiting, and gives
 * up after STARTUP_WAIT_MS with an error naming the store. Real ClickHouse
 * (the embedded server in a child process) and the real Postgres.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '@tidemark/embedded-clickhouse';
import { freePort } from '@tidemark/test-support';

const BIN = path.join(__dirname, '..', 'dist', 'bin.js');
const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `tm_wait_${crypto.randomBytes(4).toString('hex')}`;
let admin: Pool;
let dataDir: string;

beforeAll(async () => {
  admin = new Pool({ connectionString: postgresUrl, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-wait-'));
});

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The embedded server is closed by default: both sides get the same configured passwords. */
const CH_PASSWORDS = {
  CLICKHOUSE_PASSWORD: `rw-${crypto.randomBytes(8).toString('hex')}`,
  CLICKHOUSE_READONLY_PASSWORD: `ro-${crypto.randomBytes(8).toString('hex')}`,
};

function startApi(clickhousePort: number, waitMs: number): { child: ChildProcess; output: () => string; ready: Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'start', '--role', 'api'], {
    env: {
      ...process.env,
      CLICKHOUSE_URL: `http://127.0.0.1:${clickhousePort}`,
      ...CH_PASSWORDS,
      CLICKHOUSE_DATABASE: `tm_wait_${crypto.randomBytes(3).toString('hex')}`,
      META_DATABASE_URL: `${postgresUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      STARTUP_WAIT_MS: String(waitMs),
      API_PORT: '0',
      OPS_PORT: '0',
      KAFKA_BROKERS: '',
      REDIS_URL: '',
      LOG_LEVEL: 'warn',
      TIDEMARK_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('Press Ctrl-C')) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exit.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
  ready.catch(() => undefined);
  return { child, output: () => out, ready, exit };
}

test('ClickHouse coming up 3 s after the process: it waits, logs why, then starts', async () => {
  const port = await freePort();
  const p = startApi(port, 60_000);
  let ch: SpawnedClickHouse | undefined;
  try {
    await new Promise((r) => setTimeout(r, 3_000));
    expect(p.output()).toContain('waiting for the stores to answer');
    expect(p.output()).toContain(`ClickHouse at http://127.0.0.1:${port} does not answer`);
    ch = await spawnEmbeddedClickHouse({ dataDir: path.join(dataDir, 'ch'), port, env: CH_PASSWORDS });
    await p.ready;
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(0);
  } finally {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await ch?.stop();
  }
}, 120_000);

test('a store that never answers: it gives up after STARTUP_WAIT_MS with an error naming it', async () => {
  const port = await freePort();
  const started = Date.now();
  const p = startApi(port, 1_500);
  const code = await p.exit;
  expect(code).not.toBe(0);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(p.output()).toContain(`ClickHouse at http://127.0.0.1:${port} does not answer`);
}, 60_000);
