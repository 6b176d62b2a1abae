/**
 * `tidemark start` on the embedded default, as a newcomer runs it, for
 * end-to-end tests: a child process on a fresh data directory with every
 * port chosen by the OS, its printed endpoints and first-start keys parsed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const CLI = path.join(__dirname, '..', '..', 'packages', 'cli', 'dist', 'bin.js');

/** The embedded default with OS-chosen ports and no external service. */
export const EMBEDDED_ENV: Record<string, string> = {
  EMBEDDED_CLICKHOUSE_PORT: '0',
  EMBEDDED_POSTGRES_PORT: '0',
  COLLECTOR_PORT: '0',
  OPS_PORT: '0',
  API_PORT: '0',
  CLICKHOUSE_URL: '',
  META_DATABASE_URL: '',
  KAFKA_BROKERS: '',
  REDIS_URL: '',
  LOG_LEVEL: 'warn',
};

export interface RunningPlatform {
  child: ChildProcess;
  dataDir: string;
  /** Printed endpoints by the start of their label: "ClickHouse", "Postgres", "Collector", "Query API". */
  endpoint(prefix: string): string;
  /** First-start keys of project "default". */
  keys: Record<'ingest' | 'read' | 'admin', string>;
  output: string[];
  /** Runs the CLI against the same data directory (e.g. `keys create`). */
  cli(args: string[]): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

export async function startPlatform(env: Record<string, string> = {}): Promise<RunningPlatform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-e2e-'));
  const fullEnv = { ...process.env, ...EMBEDDED_ENV, ...env, TIDEMARK_DATA_DIR: dataDir };
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const endpoints: Record<string, string> = {};
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 120 s: ${stderr}\n${output.join('\n')}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`tidemark start exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const m = /^\s+(.+?)\s{2,}(\S+)$/.exec(line);
      if (m) endpoints[m[1]!] = m[2]!;
      if (line.startsWith('Press Ctrl-C')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
  const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'bootstrap-keys.json'), 'utf8')) as {
    keys: { role: 'ingest' | 'read' | 'admin'; key: string }[];
  };
  const keys = Object.fromEntries(saved.keys.map((k) => [k.role, k.key])) as RunningPlatform['keys'];
  return {
    child,
    dataDir,
    keys,
    output,
    endpoint(prefix) {
      const e = Object.entries(endpoints).find(([k]) => k.startsWith(prefix));
      if (!e) throw new Error(`no ${prefix} endpoint in ${JSON.stringify(endpoints)}`);
      return e[1];
    },
    cli(args) {
      // The running platform's embedded ports, so a one-off command talks to it instead of opening the data directory itself.
      const pg = Object.entries(endpoints).find(([k]) => k.startsWith('Postgres'))?.[1];
      const ch = Object.entries(endpoints).find(([k]) => k.startsWith('ClickHouse'))?.[1];
      const ports = {
        ...(pg ? { EMBEDDED_POSTGRES_PORT: new URL(pg).port } : {}),
        ...(ch ? { EMBEDDED_CLICKHOUSE_PORT: new URL(ch).port } : {}),
      };
      const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...fullEnv, ...ports }, encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
  ms: number;
}

/** One HTTP request; never throws for a status code. */
export function request(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers, ms: Date.now() - t0 }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export function bearer(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra };
}
