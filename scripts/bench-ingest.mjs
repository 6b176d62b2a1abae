#!/usr/bin/env node
// End-to-end ingest throughput and ingest-to-queryable latency of the real
// `tidemark start` process, next to the limit: the same events, already
// normalised, inserted straight into ClickHouse over HTTP.
//
//   node scripts/bench-ingest.mjs [--mode embedded|kafka|both] [--events N] [--batch N] [--concurrency N]
//   npm run bench:ingest -- --mode embedded --events 1000000
//   node scripts/bench-ingest.mjs --mode embedded --profile /tmp/prof   (V8 CPU profile of the platform)
//
// embedded: HTTP → collector → micro-batched inserts → chDB (one process).
// kafka:    HTTP → collector → Kafka (acks=all) → consumer group → chDB
//           (collector and consumer in one `tidemark start` process; Kafka from
//           `npm run services:up`, KAFKA_BROKERS from .services/env or 127.0.0.1:19092).
// Events count as done when `SELECT count()` sees them. Latency: a probe event
// is sent every 250 ms during the run and polled until queryable.
// Nothing is built here: run `npm run build` first.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { cpuSeconds, EMBEDDED_ENV, httpRequest, peakRssMiB, requireBuilt, root, startTidemark, cli } from './lib/bench.mjs';

const require = createRequire(import.meta.url);
requireBuilt('bench-ingest', [
  cli,
  path.join(root, 'packages', 'collector', 'dist', 'index.js'),
  path.join(root, 'packages', 'embedded-clickhouse', 'dist', 'spawn.js'),
]);
const core = require(path.join(root, 'packages', 'core', 'dist', 'index.js'));
const collector = require(path.join(root, 'packages', 'collector', 'dist', 'index.js'));
const { spawnEmbeddedClickHouse } = require(path.join(root, 'packages', 'embedded-clickhouse', 'dist', 'spawn.js'));

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
}
const MODE = arg('mode', 'both');
const EVENTS = Number(arg('events', 500_000));
const BATCH = Number(arg('batch', 1000));
// 32 producers in flight: a closed loop of a few clients that each wait for their ack measures their latency, not the platform's capacity.
const CONCURRENCY = Number(arg('concurrency', 32));
// --profile DIR: the platform process writes a V8 CPU profile (.cpuprofile) into DIR when it stops.
const PROFILE_DIR = arg('profile', undefined);
const TARGETS = { embedded: 200_000, kafka: 100_000 };
const P99_TARGET_MS = 2000;

function kafkaBrokers() {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const env = path.join(root, '.services', 'env');
  const m = fs.existsSync(env) ? /KAFKA_BROKERS=([^\s'"]+)/.exec(fs.readFileSync(env, 'utf8')) : null;
  return m ? m[1] : '127.0.0.1:19092';
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const request = (url, opts) => httpRequest(agent, url, opts);

async function chCount(chUrl, sql) {
  const r = await request(`${chUrl}/?query=${encodeURIComponent(sql)}`, { method: 'GET' });
  if (r.status !== 200) throw new Error(`ClickHouse: ${r.body}`);
  return Number(r.body.trim());
}

/** The dataset: JSON bodies of BATCH events each, generated once, before any clock starts. */
function makeBodies() {
  const names = ['page_view', 'session.start', 'message.ai', 'message.user', 'http_request'];
  const bodies = [];
  const base = Date.now();
  for (let b = 0; b * BATCH < EVENTS; b++) {
    const n = Math.min(BATCH, EVENTS - b * BATCH);
    const events = [];
    for (let i = 0; i < n; i++) {
      const k = b * BATCH + i;
      events.push({
        event_id: crypto.randomUUID(),
        name: names[k % names.length],
        timestamp: base - (k % 3_600_000),
        distinct_id: `user-${k % 20_000}`,
        session_id: `s-${k % 50_000}`,
        properties: { duration_ms: (k % 977) * 1.5, tokens: k % 300, path: `/p/${k % 50}` },
        context: { product: 'chatbot', channel: k % 2 ? 'web' : 'app', os: 'linux', app_version: '1.4.2' },
      });
    }
    bodies.push(Buffer.from(JSON.stringify(events)));
  }
  return bodies;
}

async function startPlatform(mode, dataDir) {
  const env = { ...EMBEDDED_ENV, COLLECTOR_RATE_LIMIT_PER_SEC: '0' };
  if (mode === 'kafka') {
    Object.assign(env, {
      KAFKA_BROKERS: kafkaBrokers(),
      KAFKA_TOPIC_PREFIX: `bench${Date.now().toString(36)}.`,
      CONSUMER_GROUP_ID: `bench-${Date.now().toString(36)}`,
      KAFKA_TOPIC_PARTITIONS: process.env.KAFKA_TOPIC_PARTITIONS ?? '6',
    });
  }
  const nodeArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE_DIR)}`] : [];
  const t = await startTidemark({ dataDir, env, nodeArgs });
  return {
    child: t.child,
    chUrl: withCredentials(t.endpoint('ClickHouse'), dataDir),
    collectorUrl: t.endpoint('Collector'),
    ingestKey: t.key('ingest'),
    stop: () => t.stop(),
  };
}

/** The embedded ClickHouse is closed (generated passwords in <dataDir>/clickhouse-secrets.json): the count queries log in as the platform's user. */
function withCredentials(url, dataDir) {
  const u = new URL(url);
  u.username = process.env.CLICKHOUSE_USER || 'default';
  u.password = JSON.parse(fs.readFileSync(path.join(dataDir, 'clickhouse-secrets.json'), 'utf8')).password;
  return u.toString().replace(/\/$/, '');
}

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runEndToEnd(mode, bodies) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tm-bench-${mode}-`));
  const p = await startPlatform(mode, dataDir);
  const headers = { authorization: `Bearer ${p.ingestKey}`, 'content-type': 'application/json' };
  const countSql = "SELECT count() FROM tidemark.events_raw_v1 WHERE name != 'bench.probe'";
  // Warm-up: first inserts create parts and load code paths.
  await request(`${p.collectorUrl}/v1/events`, { body: JSON.stringify([{ name: 'bench.probe', distinct_id: 'warmup' }]), headers });
  while ((await chCount(p.chUrl, "SELECT count() FROM tidemark.events_raw_v1 WHERE distinct_id = 'warmup'")) < 1) await new Promise((r) => setTimeout(r, 50));

  const latencies = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const id = crypto.randomUUID();
      const t0 = performance.now();
      const r = await request(`${p.collectorUrl}/v1/events`, { body: JSON.stringify([{ name: 'bench.probe', distinct_id: id }]), headers });
      if (r.status === 200) {
        while ((await chCount(p.chUrl, `SELECT count() FROM tidemark.events_raw_v1 WHERE name = 'bench.probe' AND distinct_id = '${id}'`)) < 1) {
          await new Promise((res) => setTimeout(res, 20));
        }
        latencies.push(performance.now() - t0);
      }
      await new Promise((res) => setTimeout(res, 250));
    }
  })();

  const t0 = performance.now();
  const cpu0 = cpuSeconds(p.child.pid);
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= bodies.length) return;
        for (;;) {
          const r = await request(`${p.collectorUrl}/v1/events`, { body: bodies[i], headers });
          if (r.status === 200) break;
          failed++;
          if (r.status !== 503 && r.status !== 429) throw new Error(`HTTP ${r.status}: ${r.body}`);
          await new Promise((res) => setTimeout(res, 200));
        }
      }
    }),
  );
  const tAck = performance.now();
  let n = 0;
  while ((n = await chCount(p.chUrl, countSql)) < EVENTS) await new Promise((r) => setTimeout(r, 25));
  const tDone = performance.now();
  const cpu = cpuSeconds(p.child.pid) - cpu0;
  probing = false;
  await prober;
  if (n !== EVENTS) throw new Error(`${mode}: ${n} rows landed for ${EVENTS} events sent`);
  const rollup = await chCount(p.chUrl, "SELECT sum(events) FROM tidemark.events_1m_v1 WHERE name != 'bench.probe'");
  const rss = peakRssMiB(p.child.pid);
  await p.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    mode,
    eventsPerSec: EVENTS / ((tDone - t0) / 1000),
    ackedPerSec: EVENTS / ((tAck - t0) / 1000),
    seconds: (tDone - t0) / 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    probes: latencies.length,
    retries: failed,
    rss,
    cpuUsPerEvent: (cpu * 1e6) / EVENTS,
    rollupOk: rollup === EVENTS,
  };
}

/** The limit: the same events, normalised as the collector does, inserted straight into ClickHouse over HTTP. */
async function runLimit(bodies) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-bench-limit-'));
  const server = await spawnEmbeddedClickHouse({ dataDir, env: { LOG_LEVEL: 'warn' } });
  const logger = core.createLogger({ level: 'silent' });
  // The embedded server is closed by default: its generated read-write password.
  const admin = new core.ClickHouse({ url: server.url, ...server.auth(), database: 'default' });
  await core.migrateClickHouse({ admin, database: 'tidemark', dir: core.CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  await admin.close();
  const { username, password } = server.auth();
  const authed = Object.assign(new URL(server.url), { username, password }).toString().replace(/\/$/, '');
  const receivedAt = Date.now();
  const chunks = [];
  let rows = [];
  for (const body of bodies) {
    for (const item of JSON.parse(body.toString())) {
      const r = collector.normalizeEvent(item, { projectId: 'default', receivedAt, futureToleranceMs: 300_000, retentionMs: 90 * 86_400_000 });
      rows.push(JSON.stringify(r.row));
    }
    if (rows.length >= 100_000) {
      chunks.push(Buffer.from(rows.join('\n') + '\n'));
      rows = [];
    }
  }
  if (rows.length) chunks.push(Buffer.from(rows.join('\n') + '\n'));
  const q = encodeURIComponent('INSERT INTO tidemark.events_raw_v1 FORMAT JSONEachRow');
  const t0 = performance.now();
  const cpu0 = cpuSeconds(server.process.pid);
  let next = 0;
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= chunks.length) return;
        const r = await request(`${authed}/?query=${q}`, { body: chunks[i] });
        if (r.status !== 200) throw new Error(`limit insert: ${r.body}`);
      }
    }),
  );
  const n = await chCount(authed, 'SELECT count() FROM tidemark.events_raw_v1');
  const t = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(server.process.pid) - cpu0;
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (n !== EVENTS) throw new Error(`limit: ${n} rows for ${EVENTS}`);
  return { eventsPerSec: EVENTS / t, cpuUsPerEvent: (cpu * 1e6) / EVENTS };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const modes = MODE === 'both' ? ['embedded', 'kafka'] : [MODE];
process.stdout.write(`bench-ingest: ${fmt(EVENTS)} events, ${BATCH} per request, ${CONCURRENCY} concurrent requests, ${os.cpus().length} cores\n`);
process.stdout.write('generating the dataset...\n');
const bodies = makeBodies();
process.stdout.write(`dataset: ${(bodies.reduce((n, b) => n + b.length, 0) / 1048576).toFixed(1)} MiB of JSON\n`);
const results = [];
for (const mode of modes) {
  process.stdout.write(`running ${mode}...\n`);
  results.push(await runEndToEnd(mode, bodies));
}
process.stdout.write('running the limit (normalised rows straight into ClickHouse over HTTP)...\n');
const limit = await runLimit(bodies);

const load = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
process.stdout.write('\n');
process.stdout.write(
  `limit: same events inserted straight into ClickHouse over HTTP   ${fmt(limit.eventsPerSec)} events/s, ${limit.cpuUsPerEvent.toFixed(1)} CPU µs/event\n`,
);
process.stdout.write(
  `load average at the end: ${load} (other work on the machine lowers the wall-clock rates; CPU µs/event is what the process itself spent)\n\n`,
);
process.stdout.write(
  'mode      end-to-end ev/s  target    vs limit  acked ev/s   p50 ms  p99 ms (target 2000)  probes  peak RSS MiB  CPU µs/event (limit)  rollup=raw\n',
);
for (const r of results) {
  const pass = r.eventsPerSec >= TARGETS[r.mode] ? 'PASS' : 'BELOW';
  process.stdout.write(
    `${r.mode.padEnd(9)} ${fmt(r.eventsPerSec).padStart(15)}  ${fmt(TARGETS[r.mode]).padStart(7)} ${pass.padEnd(5)} ${(r.eventsPerSec / limit.eventsPerSec).toFixed(2).padStart(5)}  ${fmt(r.ackedPerSec).padStart(10)}  ${fmt(r.p50).padStart(6)}  ${fmt(r.p99).padStart(6)} ${r.p99 < P99_TARGET_MS ? 'PASS ' : 'BELOW'}          ${String(r.probes).padStart(6)}  ${String(r.rss).padStart(12)}  ${r.cpuUsPerEvent.toFixed(1).padStart(8)} (${limit.cpuUsPerEvent.toFixed(1)})       ${r.rollupOk ? 'yes' : 'NO'}\n`,
  );
}
if (results.some((r) => r.mode === 'kafka')) process.stdout.write('(kafka: the CPU column counts the platform process only, not the Kafka broker)\n');
agent.destroy();
