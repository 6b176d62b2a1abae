/**
 * deploy/docker/healthcheck.cjs, the image's HEALTHCHECK and the Kubernetes
 * exec probe: run as a child process against a stand-in role on loopback,
 * with the container's command line given as a file instead of /proc/1/cmdline.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { closedPort } from '@tidemark/test-support';
import { DEPLOY } from './helpers';

const SCRIPT = path.join(DEPLOY, 'docker', 'healthcheck.cjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-hc-'));

/** A /proc/<pid>/cmdline as tini -- node bin.js <args> writes it. */
function cmdline(...args: string[]): string {
  const file = path.join(tmp, `cmdline-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, `${['/usr/bin/tini', '--', 'node', '/app/packages/cli/dist/bin.js', ...args].join('\0')}\0`);
  return file;
}

/** Runs the script in a child process (async: spawnSync would block the stand-in server in this process). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

let server: http.Server;
let port = 0;
let refusedPort = 0;
let ready = true;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/health') res.writeHead(200).end('ok');
    else if (req.url === '/ready') res.writeHead(ready ? 200 : 503).end(ready ? 'ready' : 'not ready');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  refusedPort = await closedPort();
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('healthcheck.cjs', () => {
  it('is valid JavaScript for the image (node --check)', () => {
    expect(spawnSync(process.execPath, ['--check', SCRIPT]).status).toBe(0);
  });

  it('collector: liveness asks /health on COLLECTOR_PORT', async () => {
    const r = await run(['--cmdline', cmdline('start', '--role', 'collector')], { COLLECTOR_PORT: String(port) });
    expect(r).toEqual({ code: 0, stderr: '' });
  });

  it('collector: readiness asks /ready and fails with its status', async () => {
    ready = false;
    try {
      const r = await run(['--ready', '--cmdline', cmdline('start', '--role', 'collector')], { COLLECTOR_PORT: String(port) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\/ready answered 503/);
    } finally {
      ready = true;
    }
  });

  it('api (--role=api form): fails when nothing listens on API_PORT', async () => {
    const r = await run(['--cmdline', cmdline('start', '--role=api')], { API_PORT: String(refusedPort) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
  });

  it('no --role (every role in one process) checks both HTTP roles', async () => {
    const r = await run(['--cmdline', cmdline('start')], { COLLECTOR_PORT: String(port), API_PORT: String(refusedPort) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`:${refusedPort}/health`);
  });

  it('consumer without an ops server: liveness passes; readiness needs ClickHouse and Kafka to accept connections', async () => {
    const cl = cmdline('start', '--role', 'consumer');
    const noOps = { OPS_PORT: String(refusedPort) };
    expect((await run(['--cmdline', cl], noOps)).code).toBe(0);
    const up = await run(['--ready', '--cmdline', cl], { ...noOps, CLICKHOUSE_URL: `http://127.0.0.1:${port}`, KAFKA_BROKERS: `127.0.0.1:${port},other:9092` });
    expect(up).toEqual({ code: 0, stderr: '' });
    const down = await run(['--ready', '--cmdline', cl], { ...noOps, CLICKHOUSE_URL: `http://127.0.0.1:${port}`, KAFKA_BROKERS: `127.0.0.1:${refusedPort}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Kafka 127\.0\.0\.1:\d+/);
  });

  it('consumer with an ops server on OPS_PORT: asks its /health and /ready', async () => {
    const cl = cmdline('start', '--role', 'consumer');
    expect(await run(['--cmdline', cl], { OPS_PORT: String(port) })).toEqual({ code: 0, stderr: '' });
    ready = false;
    try {
      const r = await run(['--ready', '--cmdline', cl], { OPS_PORT: String(port), KAFKA_BROKERS: `127.0.0.1:${port}` });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\/ready answered 503/);
    } finally {
      ready = true;
    }
  });

  it('migrate (one-shot) always passes', async () => {
    expect((await run(['--ready', '--cmdline', cmdline('migrate')], { API_PORT: String(refusedPort) })).code).toBe(0);
  });
});
