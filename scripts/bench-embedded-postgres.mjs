#!/usr/bin/env node
// What durable commits cost the embedded metadata Postgres (PGlite over the
// wire): pgbench's TPC-B-like transactions against two embedded servers on
// fresh data directories, one that syncs the WAL before answering a commit
// (the default) and one that does not (the limit: PGlite as it ships, fsync
// off), printed side by side with their ratio.
//
//   node scripts/bench-embedded-postgres.mjs [--seconds 15] [--clients 2] [--scale 1]
//
// Needs `npm run build` and pgbench (Debian's postgresql-client).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseFlags, requireBuilt, root } from './lib/bench.mjs';

const flags = parseFlags(process.argv.slice(2), {
  defaults: { seconds: 15, clients: 2, scale: 1 },
  ints: ['seconds', 'clients', 'scale'],
  usage(code) {
    process.stderr.write('usage: node scripts/bench-embedded-postgres.mjs [--seconds 15] [--clients 2] [--scale 1]\n');
    process.exit(code);
  },
});
const dist = path.join(root, 'packages', 'embedded-postgres', 'dist', 'index.js');
requireBuilt('bench-embedded-postgres', [dist]);
const require = createRequire(import.meta.url);
// Async: the server runs in this process, so a synchronous child would block it.
const run$ = promisify(execFile);
const { startEmbeddedPostgres } = require(dist);
const { createLogger } = require(path.join(root, 'packages', 'core', 'dist', 'index.js'));

async function run(syncCommits) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-bench-pg-'));
  const auth = { user: 'postgres', password: crypto.randomBytes(16).toString('hex') };
  const pg = await startEmbeddedPostgres({ dataDir, auth, port: 0, logger: createLogger({ level: 'warn' }), syncCommits });
  const env = { ...process.env, PGPASSWORD: auth.password };
  const conn = ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres'];
  try {
    process.stderr.write(`  ${syncCommits ? 'durable' : 'no sync'}: pgbench -i -s ${flags.scale}\n`);
    await run$('pgbench', ['-i', '-q', '-I', 'dtGp', '-s', String(flags.scale), ...conn, 'postgres'], { env });
    process.stderr.write(`  ${syncCommits ? 'durable' : 'no sync'}: pgbench -c ${flags.clients} -T ${flags.seconds}\n`);
    const { stdout: out } = await run$('pgbench', ['-n', '-c', String(flags.clients), '-T', String(flags.seconds), ...conn, 'postgres'], {
      env,
      encoding: 'utf8',
    });
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
    return { tps, latency, walSyncs: pg.durability.walSyncs, lastWalSyncMs: pg.durability.lastWalSyncMs };
  } finally {
    await pg.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const durable = await run(true);
const limit = await run(false);
const row = (name, r) => `${name.padEnd(28)} ${r.tps.toFixed(1).padStart(8)} tps   latency ${r.latency.toFixed(2).padStart(7)} ms   WAL syncs ${r.walSyncs}`;
process.stdout.write(
  [
    `embedded Postgres, pgbench TPC-B-like, ${flags.clients} clients, ${flags.seconds} s, scale ${flags.scale}`,
    row('durable commits (default)', durable),
    row('no WAL sync (limit)', limit),
    `ratio durable/limit: ${(durable.tps / limit.tps).toFixed(2)}`,
    '',
  ].join('\n'),
);
