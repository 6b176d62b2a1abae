/**
 * A throwaway Postgres server with pg_stat_statements preloaded, for the
 * slow-statement test: the machine's shared server does not preload it,
 * and changing shared_preload_libraries there needs a restart that would
 * cut every other test's connections. Same binaries, own data directory,
 * own port, stopped and deleted afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPort } from './harness';

function binDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const root = '/usr/lib/postgresql';
    const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions[0] && fs.existsSync(path.join(root, versions[0], 'bin', 'initdb'))) return path.join(root, versions[0], 'bin');
  }
  throw new Error('Postgres server binaries (initdb, pg_ctl) not found: apt-get install postgresql');
}

/** initdb and the server refuse to run as root: run them as the postgres user then. */
function run(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8' }) : spawnSync(bin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
}

export async function startPrivatePostgres(settings: Record<string, string>): Promise<{ url: string; stop(): void }> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-pg-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await closedPort();
  const opts = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(
    ' ',
  );
  run(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-o', opts, '-l', path.join(dir, 'server.log'), 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
