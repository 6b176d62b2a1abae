#!/usr/bin/env node
// Insert throughput of the embedded ClickHouse HTTP front against its limit,
// chDB's own raw insert in-process, on the same pre-serialized data.
//
//   node scripts/bench-clickhouse-http.mjs [--rows N] [--batch N] [--concurrency N] [--rounds N] [--inproc-concurrency N]
//   npm run bench:clickhouse-http -- --rows 200000
//
// 1. Generates an event-like dataset once (deterministic), serialized as
//    JSONEachRow Buffers of --batch rows each.
// 2. Limit: opens chDB Session(s) in this process and inserts every Buffer with
//    session.insert({ table, values, format: 'JSONEachRow' }), sequentially
//    unless --inproc-concurrency says otherwise.
// 3. Project: spawns the embedded server (packages/embedded-clickhouse) in a
//    child process and POSTs the same Buffers as `INSERT INTO t FORMAT
//    JSONEachRow` bodies over keep-alive node:http, --concurrency at a time.
// Both sides are checked with SELECT count(); the report compares rows/s.
// With --rounds N the two measurements alternate N times (each on a fresh
// table, dropped right after) and the medians are compared, which makes the
// ratio robust against other load on a shared machine.
// Exit code 0 also when the ratio is below target (this is a report);
// non-zero only when the benchmark itself fails (missing build, lost rows).
// Nothing is built here: run `npm run build` first.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/bench.mjs';

const TARGET_RATIO = 0.7;
/** Cores used by other processes during a measured phase above which the report warns. */
const NOISE_CORES = 0.25;
const TABLE = 'bench_events';
const WARMUP_TABLE = 'bench_warmup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = path.join(root, 'packages', 'embedded-clickhouse');

// ---------------------------------------------------------------- arguments

function usage(code) {
  process.stdout.write(
    'usage: node scripts/bench-clickhouse-http.mjs [--rows N] [--batch N] [--concurrency N] [--rounds N] [--inproc-concurrency N]\n' +
      '  --rows N                rows in the dataset (default 2000000)\n' +
      '  --batch N               rows per JSONEachRow batch = per insert / HTTP request (default 50000)\n' +
      '  --concurrency N         parallel HTTP inserts (default 2)\n' +
      '  --rounds N              alternate in-process and HTTP measurements N times, report medians (default 1)\n' +
      '  --inproc-concurrency N  parallel in-process inserts (default 1: sequential, the reference limit)\n',
  );
  process.exit(code);
}

const opts = parseFlags(process.argv.slice(2), {
  defaults: { rows: 2_000_000, batch: 50_000, concurrency: 2, rounds: 1, 'inproc-concurrency': 1 },
  ints: ['rows', 'batch', 'concurrency', 'rounds', 'inproc-concurrency'],
  usage,
});

// ---------------------------------------------------------------- build check

const required = [
  path.join(pkgDir, 'dist', 'spawn.js'),
  path.join(pkgDir, 'dist', 'bin.js'),
  path.join(pkgDir, 'dist', 'server.js'),
  path.join(root, 'packages', 'core', 'dist', 'index.js'),
];
const missing = required.filter((f) => !fs.existsSync(f));
if (missing.length > 0) {
  process.stderr.write(
    `bench-clickhouse-http: the embedded server is not built (missing ${missing.map((f) => path.relative(root, f)).join(', ')}).\n` +
      'Run `npm run build` (or `npm run build -w @tidemark/embedded-clickhouse`) first; this script builds nothing.\n',
  );
  process.exit(1);
}

// The same chdb the server loads (resolved from the package that depends on it).
const pkgRequire = createRequire(path.join(pkgDir, 'package.json'));
const { Session, drainPending } = pkgRequire('chdb');
const chdbVersion = pkgRequire('chdb/package.json').version;
const { spawnEmbeddedClickHouse } = pkgRequire('./dist/spawn.js');

// ---------------------------------------------------------------- helpers

const MB = 1024 * 1024;
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtMB = (bytes) => (bytes / MB).toFixed(1);
const now = () => performance.now();

/** Set by the first SIGINT/SIGTERM: the insert loops stop, cleanup runs, exit 130. */
let interrupted = false;
class Interrupted extends Error {}
function checkInterrupted() {
  if (interrupted) throw new Interrupted('interrupted');
}

function procStatus(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return { hwm: undefined, rss: undefined };
  }
}
function selfPeakRss() {
  return procStatus('self').hwm ?? process.resourceUsage().maxRSS * 1024;
}
const fmtRss = (b) => (b === undefined ? 'n/a' : `${fmtMB(b)} MB`);

// CPU accounting, so a run on a busy shared machine shows it: CPU seconds of
// this process, of the server child, and of the whole machine (Linux /proc).
const CLK_TCK = 100; // USER_HZ on Linux
function machineBusySec() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal
    return (total - f[3] - f[4]) / CLK_TCK; // minus idle, iowait
  } catch {
    return undefined;
  }
}
function pidCpuSec(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime (fields 14, 15)
  } catch {
    return undefined;
  }
}
function selfCpuSec() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
/** Snapshot now; `.end()` returns CPU seconds spent since, per party. */
function cpuMeter(childPid) {
  const m0 = machineBusySec();
  const s0 = selfCpuSec();
  const c0 = childPid ? pidCpuSec(childPid) : undefined;
  return {
    end() {
      const m1 = machineBusySec();
      const self = selfCpuSec() - s0;
      const c1 = childPid ? pidCpuSec(childPid) : undefined;
      const child = c0 !== undefined && c1 !== undefined ? c1 - c0 : childPid ? undefined : 0;
      const machine = m0 !== undefined && m1 !== undefined ? m1 - m0 : undefined;
      const other = machine !== undefined && child !== undefined ? Math.max(0, machine - self - child) : undefined;
      return { self, child, machine, other };
    },
  };
}

function log(msg) {
  process.stdout.write(`${msg}\n`);
}

// ---------------------------------------------------------------- dataset

const DDL = (table) => `CREATE TABLE ${table}
(
    project_id  String,
    event_id    UUID,
    name        LowCardinality(String),
    timestamp   DateTime64(3, 'UTC'),
    user_id     String,
    session_id  String,
    duration_ms Float64,
    tokens      UInt32,
    properties  String
)
ENGINE = MergeTree
ORDER BY (project_id, name, timestamp)`;

/** Small deterministic PRNG (mulberry32), so every run inserts the same bytes. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EVENT_NAMES = [
  'page_view',
  'page_view',
  'page_view',
  'click',
  'click',
  'signup',
  'login',
  'logout',
  'checkout_started',
  'checkout_completed',
  'llm.completion',
  'llm.completion',
  'llm.embedding',
  'api.request',
  'api.request',
  'api.error',
  'search',
  'file_upload',
  'invoice_paid',
  'feature_flag_evaluated',
];
const PATHS = ['/', '/pricing', '/docs', '/app/dashboard', '/app/settings', '/app/reports/42', '/blog/release-notes'];
const BROWSERS = ['chrome', 'firefox', 'safari', 'edge'];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'ES', 'IT', 'PL', 'SE', 'BR', 'JP', 'IN'];
const MODELS = ['gpt-4o-mini', 'claude-sonnet', 'llama-3-70b', 'mistral-large'];

function generate(rows, batchRows) {
  const rnd = prng(20261122);
  const hex8 = () => ((rnd() * 4294967296) >>> 0).toString(16).padStart(8, '0');
  const hex = (n) => {
    let s = '';
    while (s.length < n) s += hex8();
    return s.slice(0, n);
  };
  const pick = (arr) => arr[(rnd() * arr.length) | 0];
  // Timestamps within 2026-11-01 .. 2026-11-20 (UTC), formatted by hand (Date#toISOString is slow here).
  const span = 20 * 86_400_000;
  const p2 = (n) => (n < 10 ? `0${n}` : `${n}`);
  const timestamp = (ms) => {
    const day = Math.floor(ms / 86_400_000);
    let r = ms - day * 86_400_000;
    const h = Math.floor(r / 3_600_000);
    r -= h * 3_600_000;
    const m = Math.floor(r / 60_000);
    r -= m * 60_000;
    const sec = Math.floor(r / 1000);
    const milli = r - sec * 1000;
    return `2026-11-${p2(day + 1)} ${p2(h)}:${p2(m)}:${p2(sec)}.${String(milli).padStart(3, '0')}`;
  };
  const batches = [];
  let bytes = 0;
  for (let done = 0; done < rows;) {
    const n = Math.min(batchRows, rows - done);
    const lines = new Array(n);
    for (let i = 0; i < n; i++) {
      const name = pick(EVENT_NAMES);
      const props = { path: pick(PATHS), browser: pick(BROWSERS), country: pick(COUNTRIES) };
      if (name.startsWith('llm.')) props.model = pick(MODELS);
      if (name === 'api.error') props.status = 500 + ((rnd() * 4) | 0);
      if (rnd() < 0.3) props.plan = rnd() < 0.5 ? 'pro' : 'free';
      const ts = timestamp(Math.floor(rnd() * span));
      lines[i] = JSON.stringify({
        project_id: `proj_${String((rnd() * rnd() * 200) | 0).padStart(4, '0')}`,
        event_id: `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[(rnd() * 4) | 0]}${hex(3)}-${hex(12)}`,
        name,
        timestamp: ts,
        user_id: `user_${(rnd() * 500_000) | 0}`,
        session_id: `sess_${hex(16)}`,
        duration_ms: Math.round(rnd() * rnd() * 30_000 * 1000) / 1000,
        tokens: name.startsWith('llm.') ? (rnd() * 8000) | 0 : 0,
        properties: JSON.stringify(props),
      });
    }
    const buf = Buffer.from(lines.join('\n') + '\n', 'utf8');
    batches.push({ buf, rows: n });
    bytes += buf.length;
    done += n;
  }
  return { batches, bytes };
}

// ---------------------------------------------------------------- in-process chDB (the limit)

/** chDB in this process: `concurrency` Sessions (connections) on one data directory. */
async function openInProcess(dataDir, concurrency, batches) {
  const sessions = Array.from({ length: concurrency }, () => new Session(dataDir));
  // Warm-up (not measured): the first insert pays one-time engine and parser costs.
  const s = sessions[0];
  await s.queryAsync(DDL(WARMUP_TABLE));
  await s.insert({ table: WARMUP_TABLE, values: batches[0].buf, format: 'JSONEachRow' });
  await s.queryAsync(`DROP TABLE ${WARMUP_TABLE} SYNC`);
  return {
    async round() {
      await s.queryAsync(DDL(TABLE));
      let next = 0;
      let engineSec = 0;
      let callSec = 0;
      const cpu = cpuMeter();
      const t0 = now();
      await Promise.all(
        sessions.map(async (conn) => {
          while (next < batches.length && !interrupted) {
            const b = batches[next++];
            const c0 = now();
            const r = await conn.insert({ table: TABLE, values: b.buf, format: 'JSONEachRow' });
            callSec += (now() - c0) / 1000;
            engineSec += r.elapsed;
          }
        }),
      );
      const wallSec = (now() - t0) / 1000;
      const cpuSec = cpu.end();
      const count = Number((await s.queryAsync(`SELECT count() FROM ${TABLE}`, { format: 'TabSeparated' })).text().trim());
      // Dropped at once, so its background merges cannot steal CPU from the next measurement.
      await s.queryAsync(`DROP TABLE ${TABLE} SYNC`);
      return { wallSec, engineSec, callSec, count, requests: batches.length, cpuSec };
    },
    async close() {
      for (const conn of sessions) conn.close();
      await drainPending();
    },
  };
}

// ---------------------------------------------------------------- embedded server over HTTP (the project)

function makeClient(baseUrl, agent, user, password) {
  const u = new URL(baseUrl);
  const auth = { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': password };
  return function post(query, body = Buffer.alloc(0)) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          method: 'POST',
          path: `/?query=${encodeURIComponent(query)}`,
          agent,
          headers: { ...auth, 'Content-Length': body.length, 'Content-Type': 'application/x-ndjson' },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              reject(new Error(`HTTP ${res.statusCode} for ${query.slice(0, 80)}: ${text.slice(0, 500)}`));
              return;
            }
            let summary = {};
            try {
              summary = JSON.parse(String(res.headers['x-clickhouse-summary'] ?? '{}'));
            } catch {
              // informative only
            }
            resolve({ text, summary });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}

async function openHttp(server, concurrency, batches, user, password) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const post = makeClient(server.url, agent, user, password);
  const insertQuery = (t) => `INSERT INTO ${t} FORMAT JSONEachRow`;
  // Warm-up (not measured): JIT of the server's request path, one keep-alive socket per worker.
  await post(DDL(WARMUP_TABLE));
  await Promise.all(Array.from({ length: concurrency }, () => post(insertQuery(WARMUP_TABLE), batches[0].buf)));
  await post(`DROP TABLE ${WARMUP_TABLE} SYNC`);
  return {
    async round() {
      await post(DDL(TABLE));
      let next = 0;
      let engineSec = 0;
      let callSec = 0;
      const cpu = cpuMeter(server.process.pid);
      const t0 = now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < batches.length && !interrupted) {
            const b = batches[next++];
            const c0 = now();
            const { summary } = await post(insertQuery(TABLE), b.buf);
            callSec += (now() - c0) / 1000;
            engineSec += Number(summary.elapsed_ns ?? 0) / 1e9;
          }
        }),
      );
      const wallSec = (now() - t0) / 1000;
      const cpuSec = cpu.end();
      const { text } = await post(`SELECT count() FROM ${TABLE} FORMAT TabSeparated`);
      await post(`DROP TABLE ${TABLE} SYNC`);
      return { wallSec, engineSec, callSec, count: Number(text.trim()), requests: batches.length, cpuSec };
    },
    close() {
      agent.destroy();
    },
  };
}

// ---------------------------------------------------------------- main

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-ch-'));
  let server;
  let inproc;
  let httpSide;
  const cleanup = async () => {
    httpSide?.close();
    httpSide = undefined;
    if (server) await server.stop().catch(() => undefined);
    server = undefined;
    if (inproc) await inproc.close().catch(() => undefined);
    inproc = undefined;
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
  };
  const onSignal = (sig) => {
    if (interrupted) {
      process.stderr.write(`\n${sig} again: exiting now, ${tmp} may be left behind\n`);
      server?.process.kill('SIGKILL');
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\n${sig}: finishing the running insert, then stopping the server and removing ${tmp}\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const ncpu = os.cpus().length;
    log(
      `bench-clickhouse-http: ${fmtInt(opts.rows)} rows, batch ${fmtInt(opts.batch)}, HTTP concurrency ${opts.concurrency}, ` +
        `in-process concurrency ${opts['inproc-concurrency']}, ${opts.rounds} round(s)`,
    );
    log(
      `  node ${process.version}, chdb ${chdbVersion}, ${ncpu} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );

    let t = now();
    const { batches, bytes } = generate(opts.rows, opts.batch);
    log(
      `  dataset: ${batches.length} batches, ${fmtMB(bytes)} MB JSONEachRow (${(bytes / opts.rows).toFixed(0)} B/row), generated in ${((now() - t) / 1000).toFixed(1)} s`,
    );
    const rssAfterGen = selfPeakRss();
    checkInterrupted();

    const user = 'bench';
    const password = crypto.randomBytes(12).toString('hex');
    const results = [];
    let rssAfterInproc;
    for (let r = 1; r <= opts.rounds; r++) {
      const tag = opts.rounds > 1 ? `round ${r}/${opts.rounds}: ` : '';
      if (!inproc) inproc = await openInProcess(path.join(tmp, 'inprocess'), opts['inproc-concurrency'], batches);
      log(`  ${tag}in-process chDB raw insert ...`);
      const a = await inproc.round();
      checkInterrupted();
      rssAfterInproc ??= selfPeakRss();
      log(`        ${a.wallSec.toFixed(2)} s, ${fmtInt(opts.rows / a.wallSec)} rows/s, count() = ${fmtInt(a.count)}`);
      if (opts.rounds === 1) {
        // The documented order: in-process first, closed, then the server.
        await inproc.close();
        inproc = undefined;
      }

      if (!server) {
        t = now();
        server = await spawnEmbeddedClickHouse({
          dataDir: path.join(tmp, 'server'),
          port: 0,
          env: {
            TIDEMARK_CONFIG: '',
            CLICKHOUSE_USER: user,
            CLICKHOUSE_PASSWORD: password,
            CLICKHOUSE_READONLY_PASSWORD: crypto.randomBytes(12).toString('hex'),
          },
          timeoutMs: 60_000,
        });
        log(`  server ${server.url} (pid ${server.process.pid}) started in ${((now() - t) / 1000).toFixed(1)} s`);
        checkInterrupted();
        httpSide = await openHttp(server, opts.concurrency, batches, user, password);
      }
      log(`  ${tag}embedded server over HTTP ...`);
      const h = await httpSide.round();
      checkInterrupted();
      log(`        ${h.wallSec.toFixed(2)} s, ${fmtInt(opts.rows / h.wallSec)} rows/s, count() = ${fmtInt(h.count)}`);

      // Every row must have landed on both sides.
      const problems = [];
      if (a.count !== opts.rows) problems.push(`in-process table holds ${a.count} rows, expected ${opts.rows}`);
      if (h.count !== opts.rows) problems.push(`HTTP table holds ${h.count} rows, expected ${opts.rows}`);
      if (problems.length > 0) throw new Error(`row count check FAILED: ${problems.join('; ')}`);
      results.push({ inproc: a, http: h });
    }
    const child = procStatus(server.process.pid);
    await cleanup();

    const inRps = median(results.map((x) => opts.rows / x.inproc.wallSec));
    const httpRps = median(results.map((x) => opts.rows / x.http.wallSec));
    const ratio = httpRps / inRps;
    const verdict = ratio >= TARGET_RATIO ? 'PASS' : 'BELOW';
    const med = opts.rounds > 1 ? ` (median of ${opts.rounds})` : '';

    const table = [
      ['rows', fmtInt(opts.rows), ''],
      ['batch size (rows)', fmtInt(opts.batch), `${batches.length} batches, ${fmtMB(bytes / batches.length)} MB each`],
      ['payload', `${fmtMB(bytes)} MB`, 'JSONEachRow'],
      [
        'HTTP concurrency',
        String(opts.concurrency),
        opts['inproc-concurrency'] > 1 ? `in-process concurrency ${opts['inproc-concurrency']}` : 'in-process: sequential',
      ],
      ['in-process chDB', `${fmtInt(inRps)} rows/s`, `${((inRps * bytes) / opts.rows / MB).toFixed(1)} MB/s${med}`],
      ['embedded HTTP', `${fmtInt(httpRps)} rows/s`, `${((httpRps * bytes) / opts.rows / MB).toFixed(1)} MB/s${med}`],
      ['ratio HTTP/in-process', ratio.toFixed(2), `target >= ${TARGET_RATIO}: ${verdict}`],
    ];
    const w0 = Math.max(...table.map((r) => r[0].length));
    const w1 = Math.max(...table.map((r) => r[1].length));
    const line = '-'.repeat(w0 + w1 + 44);
    log('');
    log(line);
    for (const [k, v, note] of table) log(`${k.padEnd(w0)}  ${v.padStart(w1)}  ${note}`);
    log(line);

    const cores = (sec, wall) => (sec === undefined ? 'n/a' : `${(sec / wall).toFixed(2)}`);
    const ms = (sec, n) => ((sec / n) * 1000).toFixed(0);
    log(`per round (mean ms per insert call; CPU in cores of ${ncpu}; "other" = rest of the machine, noise when > 0):`);
    results.forEach((x, i) => {
      const a = x.inproc;
      const h = x.http;
      log(
        `  #${i + 1} in-process ${fmtInt(opts.rows / a.wallSec).padStart(9)} rows/s  call ${ms(a.callSec, a.requests)} (engine ${ms(a.engineSec, a.requests)})  ` +
          `cpu ${cores(a.cpuSec.self, a.wallSec)}, other ${cores(a.cpuSec.other, a.wallSec)}`,
      );
      log(
        `     HTTP       ${fmtInt(opts.rows / h.wallSec).padStart(9)} rows/s  call ${ms(h.callSec, h.requests)} (engine ${ms(h.engineSec, h.requests)})  ` +
          `cpu server ${cores(h.cpuSec.child, h.wallSec)} + client ${cores(h.cpuSec.self, h.wallSec)}, other ${cores(h.cpuSec.other, h.wallSec)}   ratio ${(a.wallSec / h.wallSec).toFixed(2)}`,
      );
    });
    // CPU cost of ingesting the data, whichever cores it ran on: robust against
    // other load on the machine in a way wall-clock rates are not.
    const perM = (sec) => (sec === undefined ? undefined : (sec / opts.rows) * 1e6);
    const inCpu = median(results.map((x) => perM(x.inproc.cpuSec.self)));
    const httpCpuList = results.map((x) => (x.http.cpuSec.child === undefined ? undefined : perM(x.http.cpuSec.child + x.http.cpuSec.self)));
    const httpCpu = httpCpuList.includes(undefined) ? undefined : median(httpCpuList);
    log(
      `CPU per 1M rows${med}: in-process ${inCpu.toFixed(1)} s, HTTP (server + client) ${httpCpu === undefined ? 'n/a' : `${httpCpu.toFixed(1)} s`}` +
        (httpCpu === undefined ? '' : `  => HTTP front costs ${(((httpCpu - inCpu) / inCpu) * 100).toFixed(0)}% more CPU than in-process`),
    );
    log('memory:');
    log(`  bench process peak RSS  ${fmtRss(selfPeakRss())}  (after dataset ${fmtRss(rssAfterGen)}, after in-process chDB ${fmtRss(rssAfterInproc)})`);
    log(`  server child            peak RSS ${fmtRss(child.hwm)}, RSS at end ${fmtRss(child.rss)}`);
    const noisy = results.flatMap((x) => [x.inproc.cpuSec.other / x.inproc.wallSec, x.http.cpuSec.other / x.http.wallSec]).filter((o) => o > NOISE_CORES);
    if (noisy.length > 0) {
      log('');
      log(
        `WARNING: other processes used up to ${Math.max(...noisy).toFixed(2)} of ${ncpu} cores during ${noisy.length} measured phase(s); ` +
          'wall-clock rates and the ratio are skewed by that load. Re-run on an idle machine, or with --rounds 3 (medians).',
      );
    }
    log('');
    log(`RESULT ratio ${ratio.toFixed(2)} (target >= ${TARGET_RATIO}): ${verdict}`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    if (err instanceof Interrupted) process.exit(130);
    process.stderr.write(`bench-clickhouse-http FAILED: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
