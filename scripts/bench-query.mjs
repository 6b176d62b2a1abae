#!/usr/bin/env node
// Query API benchmark: latency of typical dashboard queries through the real
// API role (rollups, cache bypassed) next to the same questions answered
// straight from the raw table over ClickHouse HTTP, and requests/s of cached
// queries.
//
//   node scripts/bench-query.mjs [--events N] [--days N] [--users N] [--samples N] [--concurrency N] [--seconds N] [--keep | --data-dir DIR]
//   npm run bench:query -- --events 1000000
//
// 1. Spawns the embedded ClickHouse (packages/embedded-clickhouse, a child
//    process, as the other benchmarks do) and applies the repository schema.
// 2. Generates --events events (default 10,000,000) of one project over the
//    last --days days (30) inside ClickHouse: INSERT INTO events_raw_v1
//    SELECT ... FROM numbers(...) in chunks, so the materialized views build
//    the rollups exactly as ingestion does. 8 event names, 3 products,
//    3 channels, 5 OSes, 4 app versions, --users distinct users (50,000),
//    measures duration_ms (every event) and tokens (AI events). Then every
//    table is merged (OPTIMIZE FINAL): a month-old partition of a running
//    system is merged, and background merges must not run during the timing.
// 3. Starts the real API role (`tidemark start --role api`, built CLI) on
//    that ClickHouse, with its embedded metadata Postgres and in-process cache.
// 4. Latency: each query --samples times (after warm-up), one at a time:
//      API      POST /api/v1/query/timeseries?cache=false (or a dashboard GET
//               with Cache-Control: no-cache), end to end over HTTP;
//      rollup   the SQL the API's planner writes, run directly (@clickhouse/client):
//               the API's own overhead is API - rollup;
//      raw      the same question from events_raw_v1 with the exact aggregates
//               the API's raw fallback uses (count, uniqExact, quantileExact).
//    raw/API is how many times faster the API answers than the raw table.
// 5. Throughput: --concurrency keep-alive clients (16) send the same cached
//    request for --seconds (5); requests/s and latency percentiles.
// --data-dir DIR keeps the data there, and a later run with the same
// --data-dir and --events measures again without generating (the window
// then ends when the data was generated; the raw and rollup answers still
// cover the same events).
// Target: p95 < 50 ms for the 30-day hourly count grouped by event name,
// printed PASS/FAIL. The machine's load average is printed (other work on a
// shared machine makes every figure slower). Exit code 0 also when the
// target is missed (this is a report). Nothing is built here: run
// `npm run build` first.

import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { httpRequest, parseFlags, root, startTidemark } from './lib/bench.mjs';

const require = createRequire(path.join(root, 'package.json'));
const P95_TARGET_MS = 50;

function usage(code) {
  process.stdout.write(
    'usage: node scripts/bench-query.mjs [--events N] [--days N] [--users N] [--samples N] [--concurrency N] [--seconds N] [--keep | --data-dir DIR]\n' +
      '  --events N       events generated for the project (default 10000000)\n' +
      '  --days N         days the events span, ending now (default 30)\n' +
      '  --users N        distinct users (default 50000)\n' +
      '  --samples N      timed runs of each query, per path (default 40)\n' +
      '  --concurrency N  keep-alive clients in the cached-throughput phase (default 16)\n' +
      '  --seconds N      length of the cached-throughput phase (default 5)\n' +
      '  --keep           keep the data directory (printed at the end)\n' +
      '  --data-dir DIR   data directory, kept; a second run with the same DIR and --events skips generating\n',
  );
  process.exit(code);
}

const opts = parseFlags(process.argv.slice(2), {
  defaults: { events: 10_000_000, days: 30, users: 50_000, samples: 40, concurrency: 16, seconds: 5, keep: false, dataDir: undefined },
  ints: ['events', 'days', 'users', 'samples', 'concurrency', 'seconds'],
  bools: ['keep'],
  strings: ['data-dir'],
  usage,
});
// A data directory given is kept: that is what makes a second run skip generating.
if (opts.dataDir !== undefined) {
  opts.dataDir = path.resolve(opts.dataDir);
  opts.keep = true;
}

const dist = (pkg, file) => path.join(root, 'packages', pkg, 'dist', file);
const cli = dist('cli', 'bin.js');
for (const f of [cli, dist('core', 'index.js'), dist('embedded-clickhouse', 'spawn.js'), dist('api', 'index.js'), dist('api', 'query/timeseries.js')]) {
  if (!fs.existsSync(f)) {
    process.stderr.write(`bench-query: ${path.relative(root, f)} is missing; run \`npm run build\` first\n`);
    process.exit(2);
  }
}
const core = require(dist('core', 'index.js'));
const { spawnEmbeddedClickHouse } = require(dist('embedded-clickhouse', 'spawn.js'));
const api = require(dist('api', 'index.js'));
const planner = require(dist('api', 'query/timeseries.js'));

const out = (s) => process.stdout.write(s);
const log = (s) => out(`${s}\n`);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : n.toFixed(0)) : '-');
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const sleep = (t) => new Promise((r) => setTimeout(r, t));

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const stats = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), n: s.length };
};

const PROJECT = 'default';
const HOUR = 3_600_000;
const DAY = 86_400_000;

// ---------------------------------------------------------------- HTTP

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const request = (url, { method = 'GET', ...rest } = {}) => httpRequest(agent, url, { method, ...rest });

// ---------------------------------------------------------------- data

/**
 * One INSERT ... SELECT of `count` events starting at event number `start`.
 * Every value derives from the event number through hash functions, so a
 * run is reproducible and the distributions are even: timestamps uniform
 * over the window, users and sessions hashed into their pools.
 */
const INSERT_SQL = `
INSERT INTO events_raw_v1 (project_id, event_id, name, timestamp, received_at, distinct_id, session_id, properties, measures, product, channel, os, app_version, user_agent)
SELECT
  {project:String} AS project_id,
  generateUUIDv4(number) AS event_id,
  arrayElement(['page_view', 'page_view', 'page_view', 'session.start', 'message.user', 'message.ai', 'message.ai', 'llm.usage', 'feedback', 'checkout'], 1 + intHash32(number) % 10) AS name,
  fromUnixTimestamp64Milli({from_ms:Int64} + toInt64(intHash64(number) % {span_ms:UInt64}), 'UTC') AS timestamp,
  timestamp AS received_at,
  concat('user-', toString(intHash32(number * 7 + 1) % {users:UInt32})) AS distinct_id,
  concat('s-', toString(intHash32(number * 13 + 5) % {sessions:UInt32})) AS session_id,
  toJSONString(measures) AS properties,
  if(name IN ('message.ai', 'llm.usage'),
     map('duration_ms', toFloat64(20 + intHash32(number * 3 + 2) % 1980), 'tokens', toFloat64(50 + intHash32(number * 5 + 3) % 1950)),
     map('duration_ms', toFloat64(1 + intHash32(number * 3 + 2) % 500))) AS measures,
  arrayElement(['chatbot', 'shop', 'crm'], 1 + intHash32(number * 11 + 7) % 3) AS product,
  arrayElement(['web', 'app', 'api'], 1 + intHash32(number * 17 + 9) % 3) AS channel,
  arrayElement(['windows', 'macos', 'linux', 'ios', 'android'], 1 + intHash32(number * 19 + 4) % 5) AS os,
  arrayElement(['1.4.0', '1.4.1', '1.4.2', '1.5.0'], 1 + intHash32(number * 23 + 6) % 4) AS app_version,
  '' AS user_agent
FROM numbers({start:UInt64}, {count:UInt64})`;

async function generate(ch, now) {
  const chunk = 1_000_000;
  const from = now - opts.days * DAY;
  const t0 = performance.now();
  for (let start = 0; start < opts.events; start += chunk) {
    const count = Math.min(chunk, opts.events - start);
    await ch.client.command({
      query: INSERT_SQL,
      query_params: { project: PROJECT, from_ms: from, span_ms: opts.days * DAY, users: opts.users, sessions: opts.users * 10, start, count },
      clickhouse_settings: { max_partitions_per_insert_block: 1000, max_insert_threads: 2 },
    });
    const done = start + count;
    const s = (performance.now() - t0) / 1000;
    log(
      `  ${fmt(done).padStart(12)} / ${fmt(opts.events)} events  ${((done / opts.events) * 100).toFixed(0).padStart(3)}%  ${s.toFixed(0).padStart(4)} s  ${fmt(done / s)} events/s  (load ${load()})`,
    );
  }
  return (performance.now() - t0) / 1000;
}

// ---------------------------------------------------------------- the API role

async function startApiRole(dataDir, chUrl, chEnv = {}) {
  const t = await startTidemark({
    dataDir,
    args: ['--role', 'api'],
    // BENCH_API_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the API process (a profile of where its time goes).
    nodeArgs: (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean),
    timeoutMs: 180_000,
    env: {
      ...chEnv,
      CLICKHOUSE_URL: chUrl,
      CLICKHOUSE_DATABASE: 'tidemark',
      META_DATABASE_URL: '',
      EMBEDDED_POSTGRES_PORT: '0',
      REDIS_URL: '',
      KAFKA_BROKERS: '',
      API_PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
  });
  return { pid: t.pid, url: t.endpoint('Query API'), readKey: t.key('read'), stop: () => t.stop() };
}

// ---------------------------------------------------------------- the questions

/**
 * Typical dashboard questions: the time-series request, and the same
 * question over the raw table with the exact aggregates the API's raw
 * fallback computes. `{p}`, `{from}`, `{to}` are bound, never spliced.
 */
function timeseriesQueries() {
  const rawWhere = 'project_id = {p:String} AND timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND timestamp < fromUnixTimestamp64Milli({to:Int64})';
  return [
    {
      id: 'q1',
      label: '30d hourly count by name',
      target: true,
      body: { measures: [{ type: 'count' }], dimensions: ['name'], range: { last: '30d' }, interval: '1h' },
      raw: `SELECT toUnixTimestamp(toStartOfHour(timestamp)) * 1000 AS t, name AS d0, count() AS m0 FROM events_raw_v1 WHERE ${rawWhere} GROUP BY t, d0 ORDER BY t`,
    },
    {
      id: 'q2',
      label: '7d daily unique users by os',
      body: { measures: [{ type: 'unique_users' }], dimensions: ['os'], range: { last: '7d' }, interval: '1d' },
      raw: `SELECT toUnixTimestamp(toStartOfDay(timestamp)) * 1000 AS t, os AS d0, uniqExact(distinct_id) AS m0 FROM events_raw_v1 WHERE ${rawWhere} GROUP BY t, d0 ORDER BY t`,
    },
    {
      id: 'q3',
      label: '24h p95 duration_ms per 5 min',
      body: { measures: [{ type: 'p95', field: 'duration_ms' }], range: { last: '24h' }, interval: '5m' },
      raw: `SELECT toUnixTimestamp(toStartOfFiveMinutes(timestamp)) * 1000 AS t, quantileExactIf(0.95)(measures['duration_ms'], mapContains(measures, 'duration_ms')) AS m0 FROM events_raw_v1 WHERE ${rawWhere} GROUP BY t ORDER BY t`,
    },
    {
      id: 'q4',
      label: '30d daily tokens sum+avg by name',
      body: {
        measures: [
          { type: 'sum', field: 'tokens' },
          { type: 'avg', field: 'tokens' },
        ],
        dimensions: ['name'],
        range: { last: '30d' },
        interval: '1d',
      },
      raw: `SELECT toUnixTimestamp(toStartOfDay(timestamp)) * 1000 AS t, name AS d0, sumIf(measures['tokens'], mapContains(measures, 'tokens')) AS m0, avgIf(measures['tokens'], mapContains(measures, 'tokens')) AS m1 FROM events_raw_v1 WHERE ${rawWhere} GROUP BY t, d0 ORDER BY t`,
    },
    {
      id: 'q5',
      label: '24h count+sessions/15 min, web',
      body: {
        measures: [{ type: 'count' }, { type: 'unique_sessions' }],
        filter: { field: 'channel', op: 'is', value: 'web' },
        range: { last: '24h' },
        interval: '15m',
      },
      raw: `SELECT toUnixTimestamp(toStartOfFifteenMinutes(timestamp)) * 1000 AS t, count() AS m0, uniqExact(session_id) AS m1 FROM events_raw_v1 WHERE ${rawWhere} AND channel = 'web' GROUP BY t ORDER BY t`,
    },
  ];
}

/** Dashboard routes (several statements each); no single raw equivalent, so no ratio. */
const DASHBOARD_GETS = [
  { id: 'd1', label: 'dashboard/today', path: '/api/analytics-monitoring/dashboard/today' },
  { id: 'd2', label: 'dashboard/trend?days=30', path: '/api/analytics-monitoring/dashboard/trend?days=30' },
];

async function timeIt(samples, fn) {
  for (let i = 0; i < 3; i++) await fn(); // warm-up: code paths, marks, page cache
  const t = [];
  for (let i = 0; i < samples; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return stats(t);
}

// ---------------------------------------------------------------- throughput

async function throughput(url, body, headers) {
  const lat = [];
  let ok = 0;
  let bad = 0;
  let cached = 0;
  const deadline = performance.now() + opts.seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        const r = await request(url, { method: 'POST', body, headers });
        lat.push(performance.now() - s);
        if (r.status === 200) {
          ok++;
          if (r.headers['x-cache'] === 'hit' || r.body.includes('"cached":true')) cached++;
        } else bad++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { rps: ok / secs, ok, bad, cached, ...stats(lat) };
}

// ---------------------------------------------------------------- main

async function main() {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tm-bench-query-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const cleanups = [];
  const logger = core.createLogger({ level: 'silent' });
  try {
    log(
      `bench-query: ${fmt(opts.events)} events over ${opts.days} days, ${fmt(opts.users)} users; ${opts.samples} samples per query; ` +
        `${opts.concurrency} clients x ${opts.seconds} s cached`,
    );
    log(`  node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${load()}`);

    log('starting the embedded ClickHouse and applying the schema');
    const server = await spawnEmbeddedClickHouse({ dataDir: path.join(dataDir, 'clickhouse'), env: { LOG_LEVEL: 'warn' } });
    cleanups.push(() => server.stop());
    // The embedded server is closed by default: its generated passwords, for these clients and the API role.
    const admin = new core.ClickHouse({ url: server.url, ...server.auth(), database: 'default' });
    await core.migrateClickHouse({ admin, database: 'tidemark', dir: core.CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
    await admin.close();
    const ch = new core.ClickHouse({ url: server.url, ...server.auth(), database: 'tidemark', requestTimeoutMs: 3_600_000 });
    cleanups.push(() => ch.close());

    const now = Date.now();
    const tables = ['events_raw_v1', 'events_1m_v1', 'events_1h_v1', 'events_1d_v1', 'event_measures_1m_v1', 'event_measures_1h_v1', 'event_measures_1d_v1'];
    const [existing] = await (await ch.client.query({ query: 'SELECT count() AS n, max(timestamp) AS last FROM events_raw_v1', format: 'JSONEachRow' })).json();
    if (Number(existing.n) === opts.events) {
      log(`reusing the ${fmt(opts.events)} events in ${dataDir} (generated up to ${existing.last} UTC)`);
    } else {
      if (Number(existing.n) !== 0) throw new Error(`${dataDir} holds ${existing.n} events, not --events ${opts.events}; use another --data-dir`);
      log(`generating ${fmt(opts.events)} events in ClickHouse (INSERT ... SELECT FROM numbers, 1M per statement; the materialized views fill the rollups)`);
      const genSecs = await generate(ch, now);
      log(`  generated in ${genSecs.toFixed(0)} s`);
      const t = performance.now();
      for (const table of tables) await ch.client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
      log(`  merged (OPTIMIZE FINAL) in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    }
    const sizes = await (
      await ch.client.query({
        query: `SELECT table, sum(rows) AS rows, count() AS parts, sum(data_compressed_bytes) AS bytes FROM system.parts WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)} GROUP BY table ORDER BY table`,
        query_params: { tables },
        format: 'JSONEachRow',
      })
    ).json();
    log('  table                    rows          parts  compressed');
    for (const s of sizes)
      log(
        `  ${s.table.padEnd(22)} ${fmt(Number(s.rows)).padStart(12)}  ${String(s.parts).padStart(5)}  ${(Number(s.bytes) / 1048576).toFixed(1).padStart(7)} MiB`,
      );
    const total = Number(sizes.find((s) => s.table === 'events_raw_v1')?.rows ?? 0);
    if (total !== opts.events) throw new Error(`events_raw_v1 holds ${total} rows, expected ${opts.events}`);

    log('starting the API role (tidemark start --role api)');
    const role = await startApiRole(path.join(dataDir, 'platform'), server.url, server.configEnv());
    cleanups.push(() => role.stop());
    const auth = { authorization: `Bearer ${role.readKey}`, 'content-type': 'application/json' };

    // ------------------------------------------------------------ latency
    log(`\nlatency: ${opts.samples} sequential runs per path after 3 warm-ups; API with the cache bypassed (load ${load()})`);
    const results = [];
    for (const q of timeseriesQueries()) {
      const body = JSON.stringify(q.body);
      // What the API answers with (and checks that it answers at all).
      const first = await request(`${role.url}/api/v1/query/timeseries?cache=false`, { method: 'POST', body, headers: auth });
      if (first.status !== 200) throw new Error(`${q.label}: API ${first.status} ${first.body.slice(0, 500)}`);
      const answer = JSON.parse(first.body);
      const points = answer.series.reduce((n, s) => n + s.points.length, 0);
      const apiStats = await timeIt(opts.samples, async () => {
        const r = await request(`${role.url}/api/v1/query/timeseries?cache=false`, { method: 'POST', body, headers: auth });
        if (r.status !== 200) throw new Error(`${q.label}: API ${r.status} ${r.body.slice(0, 300)}`);
      });
      // The planner's SQL for the same request, run directly: the API's overhead is the difference.
      const req = api.timeseriesRequest.parse(q.body);
      const nowQ = Date.now();
      const range = planner.resolveRange(req, req.interval, nowQ);
      const plan = planner.plan(req, PROJECT, range, req.interval);
      const rollupStats = await timeIt(opts.samples, async () => {
        await (await ch.client.query({ query: plan.sql, query_params: plan.params, format: 'JSONEachRow' })).json();
      });
      const rawParams = { p: PROJECT, from: range.from, to: range.to };
      const rawRows = await (await ch.client.query({ query: q.raw, query_params: rawParams, format: 'JSONEachRow' })).json();
      const rawStats = await timeIt(opts.samples, async () => {
        await (await ch.client.query({ query: q.raw, query_params: rawParams, format: 'JSONEachRow' })).json();
      });
      // Sanity: counts from the rollup equal the raw table's.
      let check = '';
      if (q.body.measures[0].type === 'count') {
        const apiSum = answer.series.reduce((n, s) => n + s.points.reduce((m, p) => m + (p.count ?? 0), 0), 0);
        const rawSum = rawRows.reduce((n, r) => n + Number(r.m0), 0);
        check = apiSum === rawSum ? 'counts=raw' : `COUNTS DIFFER ${apiSum} vs ${rawSum}`;
      }
      results.push({ ...q, table: answer.meta.table, points, apiStats, rollupStats, rawStats, check });
      log(
        `  ${q.id} ${q.label}: ${answer.meta.table}, ${answer.series.length} series, ${points} points, ${(first.body.length / 1024).toFixed(0)} KiB ${check}`,
      );
    }
    for (const d of DASHBOARD_GETS) {
      const first = await request(`${role.url}${d.path}`, { headers: { ...auth, 'cache-control': 'no-cache' } });
      if (first.status !== 200) throw new Error(`${d.label}: API ${first.status} ${first.body.slice(0, 300)}`);
      const apiStats = await timeIt(opts.samples, async () => {
        const r = await request(`${role.url}${d.path}`, { headers: { ...auth, 'cache-control': 'no-cache' } });
        if (r.status !== 200) throw new Error(`${d.label}: API ${r.status}`);
      });
      results.push({ ...d, table: 'several', apiStats });
    }

    // ------------------------------------------------------------ throughput
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const cachedBody = JSON.stringify({ measures: [{ type: 'count' }], dimensions: ['name'], range: { from: end - 30 * DAY, to: end }, interval: '1h' });
    const warm = await request(`${role.url}/api/v1/query/timeseries`, { method: 'POST', body: cachedBody, headers: auth });
    if (warm.status !== 200) throw new Error(`cached query: ${warm.status} ${warm.body.slice(0, 300)}`);
    log(`\nthroughput: ${opts.concurrency} keep-alive clients, ${opts.seconds} s each, from the cache (load ${load()})`);
    const tp = await throughput(`${role.url}/api/v1/query/timeseries`, cachedBody, auth);
    // A small answer too: the large one above measures JSON and socket work as much as the API.
    const smallBody = JSON.stringify({ measures: [{ type: 'unique_users' }], dimensions: ['os'], range: { from: end - 7 * DAY, to: end }, interval: '1d' });
    const warmSmall = await request(`${role.url}/api/v1/query/timeseries`, { method: 'POST', body: smallBody, headers: auth });
    if (warmSmall.status !== 200) throw new Error(`cached query: ${warmSmall.status} ${warmSmall.body.slice(0, 300)}`);
    const tpSmall = await throughput(`${role.url}/api/v1/query/timeseries`, smallBody, auth);
    const sizes2 = [(warm.body.length / 1024).toFixed(0), (warmSmall.body.length / 1024).toFixed(1)];

    // ------------------------------------------------------------ report
    log(`\nQuery API (${fmt(opts.events)} events, ${opts.days} days, ${os.cpus().length} CPUs, load average ${load()})`);
    log('query                                 table                  API p50   API p95   rollup SQL p50   raw p50   raw p95   raw/API (p50)');
    for (const r of results) {
      const ratio = r.rawStats ? `${(r.rawStats.p50 / r.apiStats.p50).toFixed(1)}x` : '-';
      const verdict = r.target ? `   p95 target ${P95_TARGET_MS} ms: ${r.apiStats.p95 < P95_TARGET_MS ? 'PASS' : 'FAIL'}` : '';
      log(
        `${`${r.id} ${r.label}`.padEnd(37)} ${r.table.padEnd(21)} ${ms(r.apiStats.p50).padStart(7)}   ${ms(r.apiStats.p95).padStart(7)}   ${ms(r.rollupStats?.p50).padStart(14)}   ${ms(r.rawStats?.p50).padStart(7)}   ${ms(r.rawStats?.p95).padStart(7)}   ${ratio.padStart(13)}${verdict}`,
      );
    }
    log(
      "(milliseconds; API = end to end over HTTP with the cache bypassed; rollup SQL = the planner's statement run directly; raw = events_raw_v1 with exact aggregates)",
    );
    for (const [what, r, size] of [
      ['30d hourly by name', tp, sizes2[0]],
      ['7d daily users by os', tpSmall, sizes2[1]],
    ]) {
      log(
        `cached ${what} (${size} KiB): ${fmt(r.rps)} requests/s (${fmt(r.ok)} answered, ${r.bad} errors, ${fmt(r.cached)} from the cache), latency p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms`,
      );
    }
    const q1 = results.find((r) => r.target);
    log(`target: 30-day hourly count by name p95 ${ms(q1.apiStats.p95)} ms < ${P95_TARGET_MS} ms: ${q1.apiStats.p95 < P95_TARGET_MS ? 'PASS' : 'FAIL'}`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err) => process.stderr.write(`cleanup: ${err.message}\n`));
    agent.destroy();
    if (opts.keep) log(`data kept in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench-query failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
