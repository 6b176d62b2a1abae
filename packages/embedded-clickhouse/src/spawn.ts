import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { loadConfig } from '@tidemark/core';
import { resolveClickHouseCredentials, type ClickHouseCredentials } from './secrets';

export interface SpawnedClickHouse {
  url: string;
  process: ChildProcess;
  /** The credentials the child accepts (configured in `env`, else generated in the data directory on its first start). */
  credentials: ClickHouseCredentials;
  /** Client options of the read-write user (`readonly`: of the read-only user), for `new ClickHouse({...})` / createClient. */
  auth(readonly?: boolean): { username: string; password: string };
  /** Config overrides pointing a role at this server: URL, both users and their passwords. */
  configEnv(): {
    CLICKHOUSE_URL: string;
    CLICKHOUSE_USER: string;
    CLICKHOUSE_PASSWORD: string;
    CLICKHOUSE_READONLY_USER: string;
    CLICKHOUSE_READONLY_PASSWORD: string;
  };
  /** SIGTERM and wait for exit (graceful: data kept). */
  stop(): Promise<void>;
  /** SIGKILL, for crash tests. */
  kill(): Promise<void>;
}

/**
 * Runs the embedded ClickHouse server in a child process and resolves with its
 * URL and credentials once it serves. chDB binds one data directory per
 * process, so tests, benchmarks and tools that need their own server use a
 * process each. `dataDir` is the child's TIDEMARK_DATA_DIR: the secrets file
 * is in it, chDB's files under `<dataDir>/clickhouse`.
 */
export function spawnEmbeddedClickHouse(opts: { dataDir: string; port?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<SpawnedClickHouse> {
  const bin = path.join(__dirname, '..', 'dist', 'bin.js');
  const env = { ...process.env, ...opts.env };
  const child = spawn(process.execPath, [bin, '--port', String(opts.port ?? 0), '--data-dir', opts.dataDir], {
    // The 'serving' line is logged at info: the level is fixed so it is always seen.
    env: { ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`embedded ClickHouse did not start within ${opts.timeoutMs ?? 30_000} ms: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    const onEarlyExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`embedded ClickHouse exited with ${code}: ${stderr}`));
    };
    child.once('exit', onEarlyExit);
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let rec: { url?: string; msg?: string };
      try {
        rec = JSON.parse(line) as { url?: string; msg?: string };
      } catch {
        return; // not a log line of ours (the first-start credentials notice)
      }
      if (!rec.url || !/serving/.test(rec.msg ?? '')) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      const url = rec.url;
      // The child has created the secrets file by now; the same resolution gives the same answer here.
      const config = loadConfig(
        {},
        {
          CLICKHOUSE_USER: env.CLICKHOUSE_USER || undefined,
          CLICKHOUSE_PASSWORD: env.CLICKHOUSE_PASSWORD,
          CLICKHOUSE_READONLY_USER: env.CLICKHOUSE_READONLY_USER || undefined,
          CLICKHOUSE_READONLY_PASSWORD: env.CLICKHOUSE_READONLY_PASSWORD,
        },
      );
      const { credentials } = resolveClickHouseCredentials(config, opts.dataDir);
      resolve({
        url,
        process: child,
        credentials,
        auth: (readonly = false) =>
          readonly
            ? { username: credentials.readonlyUser, password: credentials.readonlyPassword }
            : { username: credentials.user, password: credentials.password },
        configEnv: () => ({
          CLICKHOUSE_URL: url,
          CLICKHOUSE_USER: credentials.user,
          CLICKHOUSE_PASSWORD: credentials.password,
          CLICKHOUSE_READONLY_USER: credentials.readonlyUser,
          CLICKHOUSE_READONLY_PASSWORD: credentials.readonlyPassword,
        }),
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
        async kill() {
          if (child.exitCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}
