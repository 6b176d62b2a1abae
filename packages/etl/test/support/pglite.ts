/**
 * The embedded metadata Postgres (PGlite over the wire) in a child process,
 * as `tidemark start` runs it: the demo business source lives there in
 * embedded mode.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function spawnEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const bin = path.resolve(__dirname, '..', '..', '..', 'embedded-postgres', 'dist', 'bin.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-etl-pglite-'));
  const child: ChildProcess = spawn(process.execPath, [bin, '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedded Postgres did not start: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`embedded Postgres exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { url?: string; msg?: string };
        if (rec.url && /listening/.test(rec.msg ?? '')) {
          clearTimeout(timer);
          resolve(rec.url);
        }
      } catch {
        // not a log line
      }
    });
  });
  // The embedded server authenticates (SCRAM); its generated credentials are in the data directory.
  const secrets = path.join(dataDir, 'postgres-secrets.json');
  if (fs.existsSync(secrets)) {
    const { user, password } = JSON.parse(fs.readFileSync(secrets, 'utf8')) as { user: string; password: string };
    const u = new URL(url);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    url = u.toString();
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
