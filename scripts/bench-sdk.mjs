#!/usr/bin/env node
// The producer SDK's throughput and the request middleware's overhead,
// against a real `tidemark start` process (embedded: collector + chDB).
//
//   node scripts/bench-sdk.mjs [--only throughput|middleware] [--events N] [--batch N] [--concurrency N]
//                              [--requests N] [--connections N] [--rounds N] [--rate N]
//   npm run bench:sdk -- --events 500000
//
// 1. Throughput: one Node process tracks N events through @tidemark/sdk (HTTP
//    transport, gzip). Printed: events/s handed to the SDK (the cost of
//    track() on the caller's thread) and events/s delivered (first track()
//    until ClickHouse counts all N), with gzip (the default) and without,
//    each next to its limit: the same events as raw HTTP batches of the same
//    size, serialised (and gzipped, for the gzip limit) before the clock
//    starts, posted by this process with the same concurrency. The ratio is
//    delivered / limit.
// 2. Middleware overhead: the same Koa route (@koa/router, GET /users/:id)
//    without and with koaMiddleware (metrics to the collector, a pino log
//    line per request through @tidemark/sdk/pino), each app in its own child
//    process, loaded over loopback in alternating rounds: saturated (16
//    keep-alive connections, as fast as they answer: the throughput cost) and
//    at a steady rate well below saturation (open loop: the latency overhead
//    of a request). The ratios are with / without.
// Nothing is built here: run `npm run build` first.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cli, EMBEDDED_ENV, httpRequest, requireBuilt, root, startTidemark } from './lib/bench.mjs';

const require = createRequire(import.meta.url);
const sdkDist = path.join(root, 'packages', 'sdk', 'dist', 'index.js');
requireBuilt('bench-sdk', [cli, sdkDist, path.join(root, 'packages', 'sdk', 'dist', 'pino', 'transport.js')]);
const sdk = require(sdkDist);

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

// ----------------------------------------------------------------- platform
async function startPlatform(dataDir) {
  const t = await startTidemark({ dataDir, env: { ...EMBEDDED_ENV, COLLECTOR_RATE_LIMIT_PER_SEC: '0' } });
  return { chUrl: t.endpoint('ClickHouse'), collectorUrl: t.endpoint('Collector'), ingestKey: t.key('ingest'), stop: () => t.stop() };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const request = (url, opts) => httpRequest(agent, url, opts);

async function chCount(chUrl, name) {
  const r = await request(`${chUrl}/?query=${encodeURIComponent(`SELECT count() FROM tidemark.events_raw_v1 WHERE name = '${name}'`)}`, { method: 'GET' });
  if (r.status !== 200) throw new Error(`ClickHouse: ${r.body}`);
  return Number(r.body.trim());
}

async function waitForCount(chUrl, name, n, timeoutMs = 300_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await chCount(chUrl, name);
    if (c >= n) return c;
    if (Date.now() > until) throw new Error(`only ${c} of ${n} ${name} events arrived in ${timeoutMs / 1000} s`);
    await sleep(25);
  }
}

/** One event as an application would track it (fresh objects per call). */
function props(k) {
  return { duration_ms: (k % 977) * 1.5, tokens: k % 300, path: `/p/${k % 50}` };
}
const CONTEXT = { product: 'chatbot', channel: 'web', os: 'linux', app_version: '1.4.2' };

// ------------------------------------------------------------- throughput
async function sdkThroughput(p, { events, batch, concurrency, gzip, name }) {
  const client = new sdk.TidemarkClient({
    endpoint: p.collectorUrl,
    apiKey: p.ingestKey,
    maxBatchSize: batch,
    maxConcurrentRequests: concurrency,
    maxQueueSize: Math.max(50_000, batch * concurrency * 4),
    flushIntervalMs: 50,
    metricsIntervalMs: 0,
    gzip,
    flushOnExit: false,
  });
  const cap = Math.max(40_000, batch * concurrency * 3);
  let inTrack = 0;
  const t0 = performance.now();
  for (let i = 0; i < events;) {
    // An application producing as fast as delivery allows: it keeps the queue below the bound (nothing dropped).
    for (;;) {
      const s = client.stats().events;
      if (s.queued + s.inflight < cap) break;
      await sleep(1);
    }
    const end = Math.min(events, i + 1000);
    const a = performance.now();
    for (; i < end; i++) client.track(name, props(i), { distinctId: `user-${i % 20_000}`, sessionId: `s-${i % 50_000}`, context: CONTEXT });
    inTrack += performance.now() - a;
    await new Promise((r) => setImmediate(r));
  }
  const handed = performance.now();
  const flushed = await client.flush({ timeoutMs: 300_000 });
  await waitForCount(p.chUrl, name, events);
  const delivered = performance.now();
  const stats = await client.shutdown(5_000);
  if (!flushed || stats.events.sent !== events || stats.events.dropped !== 0) throw new Error(`SDK run incomplete: ${JSON.stringify(stats.events)}`);
  return {
    handoffPerSec: events / (inTrack / 1000),
    trackUs: (inTrack * 1000) / events,
    deliveredPerSec: events / ((delivered - t0) / 1000),
    handWallMs: handed - t0,
    stats: stats.events,
  };
}

async function rawLimit(p, { events, batch, concurrency, name, gzip }) {
  // The same events, serialised before the clock starts: the ceiling of one process posting batches.
  const bodies = [];
  const base = Date.now();
  for (let b = 0; b * batch < events; b++) {
    const list = [];
    for (let i = b * batch; i < Math.min(events, (b + 1) * batch); i++) {
      list.push({
        event_id: crypto.randomUUID(),
        name,
        timestamp: base,
        distinct_id: `user-${i % 20_000}`,
        session_id: `s-${i % 50_000}`,
        properties: props(i),
        context: CONTEXT,
      });
    }
    const json = Buffer.from(JSON.stringify({ sent_at: base, batch: list }));
    bodies.push(gzip ? zlib.gzipSync(json, { level: 1 }) : json);
  }
  const headers = { authorization: `Bearer ${p.ingestKey}`, 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) };
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= bodies.length) return;
        for (;;) {
          const r = await request(`${p.collectorUrl}/v1/events`, { body: bodies[i], headers: { ...headers, 'content-length': String(bodies[i].length) } });
          if (r.status === 200) break;
          if (r.status !== 503 && r.status !== 429) throw new Error(`raw post: ${r.status} ${r.body}`);
          await sleep(100);
        }
      }
    }),
  );
  await waitForCount(p.chUrl, name, events);
  return { perSec: events / ((performance.now() - t0) / 1000) };
}

// --------------------------------------------------------------- middleware
async function startApp(mode, p) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', mode, '--collector', p.collectorUrl, '--key', p.ingestKey], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${mode} app exited with ${code}`)));
    lines.on('line', (l) => {
      const m = /^listening (\d+)$/.exec(l);
      if (m) resolve(Number(m[1]));
    });
  });
  let stats;
  lines.on('line', (l) => {
    if (l.startsWith('stats ')) stats = JSON.parse(l.slice(6));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return stats;
    },
  };
}

async function load(url, requests, connections) {
  const a = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = new Float64Array(requests);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (;;) {
        const i = next++;
        if (i >= requests) return;
        const start = performance.now();
        await new Promise((resolve, reject) => {
          const req = http.get(`${url}/users/${i % 1000}`, { agent: a }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
          });
          req.on('error', reject);
        });
        latencies[i] = performance.now() - start;
      }
    }),
  );
  const wall = performance.now() - t0;
  a.destroy();
  return { latencies, wall };
}

/** Open loop at a fixed rate (requests start on schedule whatever the answers do): latency without queueing in the generator. */
async function paced(url, requests, rate) {
  const a = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies = new Float64Array(requests);
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < requests; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      new Promise((resolve, reject) => {
        const start = performance.now();
        const req = http.get(`${url}/users/${i % 1000}`, { agent: a }, (res) => {
          res.resume();
          res.on('end', () => {
            latencies[i] = performance.now() - start;
            return res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`));
          });
        });
        req.on('error', reject);
      }),
    );
  }
  await Promise.all(pending);
  const wall = performance.now() - t0;
  a.destroy();
  return { latencies, wall };
}

function summary(runs) {
  const all = Float64Array.from(runs.flatMap((r) => Array.from(r.latencies))).sort();
  const q = (p) => all[Math.min(all.length - 1, Math.floor(p * all.length))];
  const mean = all.reduce((s, v) => s + v, 0) / all.length;
  const rps = runs.reduce((s, r) => s + r.latencies.length, 0) / (runs.reduce((s, r) => s + r.wall, 0) / 1000);
  return { mean, p50: q(0.5), p99: q(0.99), rps };
}

async function main() {
  const EVENTS = Number(arg('events', 200_000));
  const BATCH = Number(arg('batch', 1000));
  const CONCURRENCY = Number(arg('concurrency', 4));
  const REQUESTS = Number(arg('requests', 20_000));
  const CONNECTIONS = Number(arg('connections', 16));
  const ROUNDS = Number(arg('rounds', 3));
  const RATE = Number(arg('rate', 300));
  const ONLY = arg('only', 'all');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-bench-sdk-'));
  const out = (s = '') => process.stdout.write(`${s}\n`);
  out(`bench-sdk on ${os.cpus().length} CPU(s), Node ${process.versions.node}; platform: embedded \`tidemark start\` (collector + chDB) in its own process`);
  const p = await startPlatform(dataDir);
  try {
    if (ONLY !== 'middleware') await throughput(p, { EVENTS, BATCH, CONCURRENCY, out });
    if (ONLY !== 'throughput') await middleware(p, { REQUESTS, CONNECTIONS, ROUNDS, RATE, out });
  } finally {
    await p.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function throughput(p, { EVENTS, BATCH, CONCURRENCY, out }) {
  {
    // Warm-up: first inserts create parts and load code paths on both sides.
    await sdkThroughput(p, { events: 20_000, batch: BATCH, concurrency: CONCURRENCY, gzip: true, name: 'bench.warmup' });
    await rawLimit(p, { events: 20_000, batch: BATCH, concurrency: CONCURRENCY, name: 'bench.warmup.raw', gzip: true });

    const withGzip = await sdkThroughput(p, { events: EVENTS, batch: BATCH, concurrency: CONCURRENCY, gzip: true, name: 'bench.sdk' });
    const noGzip = await sdkThroughput(p, { events: EVENTS, batch: BATCH, concurrency: CONCURRENCY, gzip: false, name: 'bench.sdk.plain' });
    const limitGzip = await rawLimit(p, { events: EVENTS, batch: BATCH, concurrency: CONCURRENCY, name: 'bench.raw.gzip', gzip: true });
    const limit = await rawLimit(p, { events: EVENTS, batch: BATCH, concurrency: CONCURRENCY, name: 'bench.raw', gzip: false });
    out();
    out(`SDK throughput: ${fmt(EVENTS)} events, batches of ${BATCH}, ${CONCURRENCY} concurrent requests, counted in ClickHouse`);
    out(
      `  handed to the SDK (track() on the caller's thread)  ${fmt(withGzip.handoffPerSec).padStart(11)} events/s   (${fmt(withGzip.trackUs, 2)} µs per track())`,
    );
    out(`  delivered, SDK with gzip (default)                  ${fmt(withGzip.deliveredPerSec).padStart(11)} events/s`);
    out(
      `  limit: same events, raw HTTP batches, pre-built gzip ${fmt(limitGzip.perSec).padStart(10)} events/s   ratio ${fmt(withGzip.deliveredPerSec / limitGzip.perSec, 2)}`,
    );
    out(`  delivered, SDK without gzip                         ${fmt(noGzip.deliveredPerSec).padStart(11)} events/s`);
    out(
      `  limit: same events, raw HTTP batches, pre-built JSON ${fmt(limit.perSec).padStart(10)} events/s   ratio ${fmt(noGzip.deliveredPerSec / limit.perSec, 2)}`,
    );
  }
}

async function middleware(p, { REQUESTS, CONNECTIONS, ROUNDS, RATE, out }) {
  {
    const bare = await startApp('bare', p);
    const instrumented = await startApp('instrumented', p);
    const metricsOnly = await startApp('metrics', p);
    try {
      await load(bare.url, 2_000, CONNECTIONS);
      await load(instrumented.url, 2_000, CONNECTIONS);
      const runs = { bare: [], instrumented: [] };
      const cpu = { bare: 0, instrumented: 0 };
      const cpuNow = async (app) => JSON.parse((await request(`${app.url}/__cpu`, { method: 'GET' })).body).us;
      for (let r = 0; r < ROUNDS; r++) {
        for (const [name, app] of [
          ['bare', bare],
          ['instrumented', instrumented],
        ]) {
          const before = await cpuNow(app);
          runs[name].push(await load(app.url, REQUESTS, CONNECTIONS));
          cpu[name] += (await cpuNow(app)) - before;
        }
      }
      const a = summary(runs.bare);
      const b = summary(runs.instrumented);
      out();
      out(`Koa middleware overhead: GET /users/:id, ${CONNECTIONS} keep-alive connections, ${ROUNDS} alternating rounds of ${fmt(REQUESTS)} requests per app`);
      out('  (with = koaMiddleware: counter + duration histogram to the collector, a pino line per request via @tidemark/sdk/pino)');
      const row = (label, s) =>
        out(`  ${label.padEnd(20)} mean ${fmt(s.mean, 3)} ms   p50 ${fmt(s.p50, 3)} ms   p99 ${fmt(s.p99, 3)} ms   ${fmt(s.rps)} req/s`);
      out(`  saturated (closed loop, as many requests as the apps answer):`);
      row('without middleware', a);
      row('with middleware', b);
      out(
        `  ratio with / without  mean ${fmt(b.mean / a.mean, 2)}   p50 ${fmt(b.p50 / a.p50, 2)}   p99 ${fmt(b.p99 / a.p99, 2)}   throughput ${fmt(b.rps / a.rps, 2)}`,
      );
      // The same for the middleware without its log line (metrics only), to split the cost.
      let cpuMetrics = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const before = await cpuNow(metricsOnly);
        await load(metricsOnly.url, REQUESTS, CONNECTIONS);
        cpuMetrics += (await cpuNow(metricsOnly)) - before;
      }
      const cpuM = cpuMetrics / (ROUNDS * REQUESTS);
      const cpuA = cpu.bare / (ROUNDS * REQUESTS);
      const cpuB = cpu.instrumented / (ROUNDS * REQUESTS);
      out(
        `  app CPU per request (all threads; the least noisy figure on a shared machine): without ${fmt(cpuA, 1)} µs, with ${fmt(cpuB, 1)} µs (+${fmt(cpuB - cpuA, 1)} µs, ratio ${fmt(cpuB / cpuA, 2)});`,
      );
      out(
        `    of which metrics only (middleware with logger: false): ${fmt(cpuM, 1)} µs (+${fmt(cpuM - cpuA, 1)} µs); the pino line per request and its shipping: the rest`,
      );
      const pacedRuns = { bare: [], instrumented: [] };
      const perRound = Math.max(1_000, Math.round(RATE * 10));
      for (let r = 0; r < ROUNDS; r++) {
        pacedRuns.bare.push(await paced(bare.url, perRound, RATE));
        pacedRuns.instrumented.push(await paced(instrumented.url, perRound, RATE));
      }
      const pa = summary(pacedRuns.bare);
      const pb = summary(pacedRuns.instrumented);
      out(`  at a steady ${fmt(RATE)} req/s (open loop, ${ROUNDS} alternating rounds of ${fmt(perRound)} requests per app): the latency overhead itself`);
      row('without middleware', pa);
      row('with middleware', pb);
      out(`  ratio with / without  mean ${fmt(pb.mean / pa.mean, 2)}   p50 ${fmt(pb.p50 / pa.p50, 2)}   p99 ${fmt(pb.p99 / pa.p99, 2)}`);
    } finally {
      await bare.stop();
      await metricsOnly.stop();
      const stats = await instrumented.stop();
      if (stats) out(`  instrumented app's SDK: ${fmt(stats.sent)} metric samples sent, ${stats.dropped} dropped, ${stats.failed} failed`);
    }
  }
}

// ---------------------------------------------------------------- server mode
// `bench-sdk.mjs --serve bare|instrumented --port-file F --collector URL --key K`:
// the Koa app under load, in its own process so the load generator's CPU is not its CPU.
async function serve() {
  const mode = arg('serve');
  const Koa = require(require.resolve('koa', { paths: [path.join(root, 'packages', 'collector')] }));
  const Router = require(require.resolve('@koa/router', { paths: [path.join(root, 'packages', 'collector')] }));
  const app = new Koa();
  let client;
  let transport;
  if (mode === 'metrics') {
    client = new sdk.TidemarkClient({ endpoint: arg('collector'), apiKey: arg('key'), service: 'bench-koa-metrics', flushOnExit: false });
    app.use(sdk.koaMiddleware(client, { logger: false, service: 'bench-koa-metrics' }));
  }
  if (mode === 'instrumented') {
    const pino = require('pino');
    client = new sdk.TidemarkClient({ endpoint: arg('collector'), apiKey: arg('key'), service: 'bench-koa', flushOnExit: false });
    transport = pino.transport({ target: '@tidemark/sdk/pino', options: { endpoint: arg('collector'), apiKey: arg('key'), service: 'bench-koa' } });
    app.use(sdk.koaMiddleware(client, { logger: pino({ level: 'info' }, transport), service: 'bench-koa' }));
  }
  const router = new Router();
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, name: 'user', plan: 'pro' };
  });
  app.use(router.routes());
  const handler = app.callback();
  // /__cpu answers outside Koa: the process's CPU time (all threads, the pino worker's included).
  const server = http.createServer((req, res) => {
    if (req.url === '/__cpu') {
      const u = process.cpuUsage();
      res.end(JSON.stringify({ us: u.user + u.system }));
      return;
    }
    void handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
  process.on('SIGTERM', async () => {
    server.close();
    server.closeAllConnections();
    if (client) {
      const stats = await client.shutdown(5_000);
      process.stdout.write(`stats ${JSON.stringify(stats.metrics)}\n`);
    }
    if (transport) transport.end();
    process.exit(0);
  });
}

if (process.argv.includes('--serve')) await serve();
else await main();
