#!/usr/bin/env node
// Fairness of parameterized statements on the embedded ClickHouse (issue 11,
// item 7): how long a fast parameterized query takes while a slow
// parameterized query of another client runs, next to the same fast query on
// an idle server.
//
//   node scripts/bench-param-fairness.mjs [--package <dir of an embedded-clickhouse build>] [--fast 20]
//
// --package measures another build (e.g. an older commit's, to compare); it
// must contain dist/spawn.js. Builds before the server had credentials are
// reached anonymously.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseFlags, requireBuilt, root } from './lib/bench.mjs';

const require = createRequire(import.meta.url);
const { createClient } = require(path.join(root, 'node_modules', '@clickhouse', 'client'));

const flags = parseFlags(process.argv.slice(2), {
  defaults: { package: path.join(root, 'packages', 'embedded-clickhouse'), fast: 20 },
  ints: ['fast'],
  strings: ['package'],
  usage: 'node scripts/bench-param-fairness.mjs [--package <dir>] [--fast N]',
});
const spawnJs = path.join(path.resolve(flags.package), 'dist', 'spawn.js');
requireBuilt('bench-param-fairness', [spawnJs]);
const { spawnEmbeddedClickHouse } = require(spawnJs);

// 12 rows at 0.25 s each: about 3 s of work holding one parameterized statement open.
const SLOW = 'SELECT {tag:String} AS tag, sum(sleepEachRow(0.25)) AS z FROM numbers(12) SETTINGS max_block_size = 1';
const FAST = 'SELECT {n:UInt32} AS n';

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-bench-fair-'));
const server = await spawnEmbeddedClickHouse({ dataDir, env: { LOG_LEVEL: 'warn' } });
const auth = server.auth ? server.auth() : { username: 'default', password: '' };
const slowClient = createClient({ url: server.url, ...auth, request_timeout: 60_000 });
const fastClient = createClient({ url: server.url, ...auth, request_timeout: 60_000 });
try {
  const fastOnce = async (n) => {
    const t = performance.now();
    const rows = await (await fastClient.query({ query: FAST, query_params: { n }, format: 'JSONEachRow' })).json();
    if (rows[0]?.n !== n) throw new Error(`fast query ${n} answered ${JSON.stringify(rows)}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 5; i++) await fastOnce(i); // warm-up
  const idle = [];
  for (let i = 0; i < flags.fast; i++) idle.push(await fastOnce(i));
  const slowStart = performance.now();
  const slow = slowClient
    .query({ query: SLOW, query_params: { tag: 'slow' }, format: 'JSONEachRow' })
    .then((r) => r.json())
    .then(() => performance.now() - slowStart);
  await new Promise((r) => setTimeout(r, 200)); // the slow statement is running
  const busy = [];
  for (let i = 0; i < flags.fast; i++) busy.push(await fastOnce(1000 + i));
  const slowMs = await slow;
  const r = (x) => Math.round(x * 10) / 10;
  const a = stats(idle);
  const b = stats(busy);
  process.stdout.write(
    `package ${path.relative(root, path.resolve(flags.package)) || '.'}\n` +
      `  fast parameterized query, idle server:              p50 ${r(a.p50)} ms, max ${r(a.max)} ms (${flags.fast} runs)\n` +
      `  fast parameterized query, behind a slow one (3 s):  first ${r(busy[0])} ms, p50 ${r(b.p50)} ms, max ${r(b.max)} ms (${flags.fast} runs)\n` +
      `  slow parameterized query:                           ${Math.round(slowMs)} ms\n`,
  );
} finally {
  await slowClient.close();
  await fastClient.close();
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
