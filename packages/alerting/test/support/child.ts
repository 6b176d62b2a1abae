import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { PG_URL, type TestEnv } from './env';

export interface EngineProcess {
  child: ChildProcess;
  owner: string;
  stderr: () => string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts support/engine-child.ts in its own Node process; resolves once it ticks. */
export function spawnEngine(env: TestEnv, vars: Record<string, string | number>): Promise<EngineProcess> {
  const child = spawn(process.execPath, ['-r', path.join(__dirname, 'register-ts.js'), path.join(__dirname, 'engine-child.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      TEST_PG_URL: PG_URL,
      TEST_PG_OPTIONS: env.pgOptions,
      CLICKHOUSE_URL: env.chUrl,
      CLICKHOUSE_DATABASE: env.database,
      CLICKHOUSE_READONLY_PASSWORD: 'ro-test-secret',
      ALERTING_QUERY_TIMEOUT_MS: '10000',
      ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine child did not start: ${stderr}`));
    }, 30_000);
    const early = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`engine child exited with ${code}: ${stderr}`));
    };
    child.once('exit', early);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^ready (\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        child,
        owner: m[1] as string,
        stderr: () => stderr,
        async kill9() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
