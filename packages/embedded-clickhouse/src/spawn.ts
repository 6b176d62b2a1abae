import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export interface SpawnedClickHouse {
  url: string;
  process: ChildProcess;
  /** SIGTERM and wait for exit (graceful: data kept). */
  stop(): Promise<void>;
  /** SIGKILL, for crash tests. */
  kill(): Promise<void>;
}

/**
 * Runs the embedded ClickHouse server in a child process and resolves with its
 * URL once it serves. chDB binds one data directory per process, so tests,
 * benchmarks and tools that need their own server use a process each.
 */
export function spawnEmbeddedClickHouse(opts: { dataDir: string; port?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<SpawnedClickHouse> {
  const bin = path.join(__dirname, '..', 'dist', 'bin.js');
  const child = spawn(process.execPath, [bin, '--port', String(opts.port ?? 0), '--data-dir', opts.dataDir], {
    // The 'serving' line is logged at info: the level is fixed so it is always seen.
    env: { ...process.env, ...opts.env, LOG_LEVEL: 'info' },
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
      try {
        const rec = JSON.parse(line) as { url?: string; msg?: string };
        if (rec.url && /serving/.test(rec.msg ?? '')) {
          clearTimeout(timer);
          child.off('exit', onEarlyExit);
          resolve({
            url: rec.url,
            process: child,
            async stop() {
              if (child.exitCode === null) child.kill('SIGTERM');
              await exited;
            },
            async kill() {
              if (child.exitCode === null) child.kill('SIGKILL');
              await exited;
            },
          });
        }
      } catch {
        // not a log line of ours
      }
    });
  });
}
