#!/usr/bin/env node
// Alert engine benchmark: rule evaluation throughput against its limit, and
// the latency from a condition becoming true to the webhook receiving it.
//
//   node scripts/bench-alerting.mjs [--rules N] [--concurrency N] [--samples N] [--tick-ms N] [--rounds N] [--outage-s N] [--outage-samples N]
//
// 1. Spawns the embedded ClickHouse (packages/embedded-clickhouse) with the
//    repository schema, and populates metrics_raw_v1 (and its rollups) with
//    an hour of samples: 200 metric names x 10 hosts, one sample per 15 s.
// 2. Creates --rules rules (default 1000) in a fresh schema of the metadata
//    Postgres (DATABASE_URL): per-host 5-minute averages, whole-project
//    maxima and p95 from the 1-minute rollup; about a tenth of them fire.
// 3. Limit: the same rule SQL statements, run directly through
//    @clickhouse/client as the read-only user with the same settings and the
//    same concurrency, no engine. Project: the engine's evaluator (claim with
//    lease, query, state transaction with outbox) over the same rules. Both
//    are timed over --rounds rounds; the report compares rules per second.
// 4. Latency: the production path (bree tick, system clock, engine with
//    the rules above still scheduled every minute) with 4 rules (interval
//    1 s, for: 0) over a table where the script makes a new host's condition
//    true every 200 ms; a loopback webhook receiver timestamps each arrival.
//    Reports p50/p90/p99/max of (arrival - moment the row was inserted), first
//    with the 1,000 rules paused (idle), then with them running (loaded).
// 5. Redelivery after an outage: the receiver answers 503 for --outage-s
//    seconds while --outage-samples conditions become true, spread over the
//    outage; reports p50/p99/max of (arrival - moment the receiver came back).
// Nothing is built here: run `npm run build` first. Exit code 0 unless the
// benchmark itself fails.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/bench.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

// ---------------------------------------------------------------- arguments

function usage(code) {
  process.stdout.write(
    'usage: node scripts/bench-alerting.mjs [--rules N] [--concurrency N] [--samples N] [--tick-ms N] [--rounds N]\n' +
      '  --rules N        rules evaluated in the throughput phase (default 1000)\n' +
      '  --concurrency N  evaluations at once, engine and baseline alike (default 8 = ALERTING_EVAL_CONCURRENCY default)\n' +
      '  --samples N      conditions made true in the latency phase, half idle and half loaded (default 300)\n' +
      '  --tick-ms N      ALERTING_TICK_MS of the latency phase (default 250)\n' +
      '  --rounds N       timed rounds of each throughput measurement (default 3)\n' +
      '  --outage-s N     length of the receiver outage of the redelivery phase (default 60)\n' +
      '  --outage-samples N  conditions made true during the outage (default 40)\n',
  );
  process.exit(code);
}

const opts = parseFlags(process.argv.slice(2), {
  defaults: { rules: 1000, concurrency: 8, samples: 300, 'tick-ms': 250, rounds: 3, 'outage-s': 60, 'outage-samples': 40 },
  ints: ['rules', 'concurrency', 'samples', 'tick-ms', 'rounds', 'outage-s', 'outage-samples'],
  usage,
});

// ---------------------------------------------------------------- build check

const dist = (pkg, file) => path.join(root, 'packages', pkg, 'dist', file);
const required = [
  dist('core', 'index.js'),
  dist('embedded-clickhouse', 'spawn.js'),
  dist('embedded-clickhouse', 'bin.js'),
  dist('alerting', 'index.js'),
  dist('alerting', 'rules/store.js'),
];
const missing = required.filter((f) => !fs.existsSync(f));
if (missing.length > 0) {
  process.stderr.write(`missing build output (run npm run build first):\n  ${missing.join('\n  ')}\n`);
  process.exit(1);
}

const core = require(dist('core', 'index.js'));
const { spawnEmbeddedClickHouse } = require(dist('embedded-clickhouse', 'index.js'));
const alerting = require(dist('alerting', 'index.js'));
const store = require(dist('alerting', 'rules/store.js'));
const schedule = require(dist('alerting', 'engine/schedule.js'));
const { createClient } = require('@clickhouse/client');
const { Pool } = require('pg');

const log = (msg) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const iso = (t) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RO_PASSWORD = 'bench-ro-secret';
const PROJECT = 'bench';
const LATENCY_PROJECT = 'latency';
const METRICS = 200;
const HOSTS = 10;

async function runPool(items, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** The rule set: per-host averages, whole-project maxima and rollup p95, ~10% firing. */
function makeRules(n) {
  const rules = [];
  for (let i = 0; i < n; i++) {
    const metric = `bench_metric_${i % METRICS}`;
    const fires = i % 10 === 0;
    const kind = i % 10 < 7 ? 'avg' : i % 10 < 9 ? 'max' : 'p95';
    const window = "timestamp > {now:DateTime64(3, 'UTC')} - INTERVAL 5 MINUTE AND timestamp <= {now:DateTime64(3, 'UTC')}";
    const sql =
      kind === 'avg'
        ? `SELECT labels['host'] AS host, avg(value) AS value FROM metrics_raw_v1 WHERE project_id = {project_id:String} AND name = '${metric}' AND ${window} GROUP BY host`
        : kind === 'max'
          ? `SELECT max(value) AS value FROM metrics_raw_v1 WHERE project_id = {project_id:String} AND name = '${metric}' AND ${window}`
          : `SELECT labels['host'] AS host, quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(quantiles)[3] AS value FROM metrics_1m_v1 WHERE project_id = {project_id:String} AND name = '${metric}' AND bucket >= toStartOfMinute({now:DateTime64(3, 'UTC')} - INTERVAL 5 MINUTE) AND bucket <= {now:DateTime64(3, 'UTC')} GROUP BY host`;
    rules.push({
      name: `Bench${i}`,
      sql,
      interval: '1m',
      condition: { op: '>', threshold: fires ? 5 : 1000 },
      no_data: { state: 'ok' },
      annotations: { summary: '{{ value | round:1 }}' },
    });
  }
  return rules;
}

async function main() {
  const started = Date.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-bench-alerting-'));
  const logger = core.createLogger({ level: 'warn', name: 'bench-alerting' });
  const schema = `bench_alerting_${process.pid}_${Date.now().toString(36)}`;
  const admin = new Pool({ connectionString: PG_URL, max: 1 });
  const cleanups = [];
  try {
    // --------------------------------------------------------------- stores
    log('starting embedded ClickHouse');
    const ch = await spawnEmbeddedClickHouse({ dataDir, env: { CLICKHOUSE_READONLY_PASSWORD: RO_PASSWORD, LOG_LEVEL: 'warn' } });
    cleanups.push(() => ch.stop());
    const database = 'tidemark';
    // The embedded server is closed by default: its generated read-write password (the read-only one is configured above).
    const chAdmin = new core.ClickHouse({ url: ch.url, ...ch.auth(), database: 'default' });
    await core.migrateClickHouse({ admin: chAdmin, database, dir: core.CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 3650 } });
    await chAdmin.close();
    await admin.query(`CREATE SCHEMA ${schema}`);
    cleanups.push(() => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    const meta = new Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 20 });
    cleanups.push(() => meta.end());
    await core.migratePostgres({ pool: meta, dirs: [core.POSTGRES_MIGRATIONS_DIR, alerting.ALERTING_POSTGRES_MIGRATIONS_DIR], logger });
    await meta.query(`INSERT INTO projects (id, name) VALUES ($1, $1), ($2, $2)`, [PROJECT, LATENCY_PROJECT]);

    // --------------------------------------------------------------- data
    const now = Date.now();
    const rw = createClient({ url: ch.url, ...ch.auth(), database, request_timeout: 300_000 });
    cleanups.push(() => rw.close());
    let rows = [];
    let total = 0;
    const flush = async () => {
      if (rows.length === 0) return;
      await rw.insert({ table: 'metrics_raw_v1', values: rows, format: 'JSONEachRow' });
      total += rows.length;
      rows = [];
    };
    log('populating metrics_raw_v1 (and rollups)');
    for (let m = 0; m < METRICS; m++) {
      for (let h = 0; h < HOSTS; h++) {
        for (let t = now - 70 * 60_000; t <= now; t += 15_000) {
          rows.push({
            project_id: PROJECT,
            name: `bench_metric_${m}`,
            type: 'gauge',
            labels: { host: `host-${h}` },
            labels_key: `host=host-${h}`,
            value: (m * 7 + h * 13 + t / 15_000) % 100,
            timestamp: iso(t),
            received_at: iso(t),
          });
        }
      }
      if (rows.length >= 50_000) await flush();
    }
    await flush();
    // Merge the inserted parts now, so background merges do not run during the measurements.
    for (const t of ['metrics_raw_v1', 'metrics_1m_v1', 'metrics_1h_v1', 'metrics_1d_v1']) await rw.command({ query: `OPTIMIZE TABLE ${t} FINAL` });
    log(`${total} samples inserted and merged`);

    // --------------------------------------------------------------- rules
    const config = core.parseConfig(
      alerting.alertingRoleConfigSchema,
      {},
      {
        CLICKHOUSE_URL: ch.url,
        CLICKHOUSE_DATABASE: database,
        CLICKHOUSE_PASSWORD: ch.credentials.password,
        CLICKHOUSE_READONLY_PASSWORD: RO_PASSWORD,
        ALERTING_EVAL_CONCURRENCY: opts.concurrency,
        ALERTING_TICK_MS: opts['tick-ms'],
        ALERTING_QUERY_TIMEOUT_MS: 10_000,
        ALERTING_WEBHOOK_SECRET: 'bench-hook-secret',
        ALERTING_REPLICA_ID: 'bench',
      },
    );
    const readonly = alerting.readonlyClickHouse(config, ch.url);
    cleanups.push(() => readonly.close());
    const rules = makeRules(opts.rules);
    const specs = rules.map((r) => alerting.ruleSchema.parse(r));
    // One SQL check up front (EXPLAIN + DESCRIBE) per distinct statement shape, as loading would do.
    for (const s of specs.slice(0, 10)) {
      const c = await alerting.checkRuleSql(readonly, s, PROJECT, now);
      if (c.problems.length > 0) throw new Error(`bench rule ${s.name} is invalid: ${JSON.stringify(c.problems)}`);
    }
    // Rules get their spread phases (ALERTING_SPREAD_EVALUATIONS); one interval later every one of them is due.
    const clock = new alerting.ManualClock(now - (opts.rounds + 1) * 60_000);
    const client = await meta.connect();
    await client.query('BEGIN');
    for (const r of rules) await store.upsertRule(client, PROJECT, r, 'api', null, clock.now(), config.ALERTING_SPREAD_EVALUATIONS);
    await client.query('COMMIT');
    client.release();
    clock.advance(60_000);
    log(`${rules.length} rules created`);

    // --------------------------------------------------------------- baseline: the same SQL, no engine
    const ro = createClient({ url: ch.url, database, username: config.CLICKHOUSE_READONLY_USER, password: RO_PASSWORD, request_timeout: 60_000 });
    cleanups.push(() => ro.close());
    const baseline = [];
    for (let round = 0; round < opts.rounds; round++) {
      const at = clock.now() + round * 60_000;
      const t0 = performance.now();
      await runPool(specs, opts.concurrency, async (spec) => {
        const rs = await ro.query({
          query: spec.sql,
          format: 'JSONCompactEachRowWithNamesAndTypes',
          query_params: { now: iso(at), project_id: PROJECT },
          clickhouse_settings: {
            max_execution_time: 10,
            timeout_overflow_mode: 'throw',
            max_result_rows: String(config.ALERTING_MAX_ROWS),
            result_overflow_mode: 'throw',
          },
        });
        await rs.json();
      });
      baseline.push(specs.length / ((performance.now() - t0) / 1000));
    }
    log(`baseline: ${baseline.map((x) => x.toFixed(0)).join(', ')} statements/s`);

    // --------------------------------------------------------------- engine: claim, query, state transaction
    const engine = new alerting.AlertEngine({ config, meta, readonly, logger, clock });
    await engine.start();
    const engineRates = [];
    let firing = 0;
    for (let round = 0; round < opts.rounds; round++) {
      const t0 = performance.now();
      const rep = await engine.evaluator.evaluateDue();
      const secs = (performance.now() - t0) / 1000;
      if (rep.evaluated !== specs.length) throw new Error(`round ${round}: evaluated ${rep.evaluated} of ${specs.length} (failed ${rep.failed})`);
      engineRates.push(rep.evaluated / secs);
      clock.advance(60_000);
    }
    firing = Number((await meta.query(`SELECT count(*) AS n FROM alert_instances WHERE state = 'firing'`)).rows[0].n);
    log(`engine: ${engineRates.map((x) => x.toFixed(0)).join(', ')} rules/s (${firing} firing instances)`);
    // The throughput rules' notifications go to a quiet log channel; they are delivered before
    // the latency phase so its measurements do not queue behind them.
    const quiet = new alerting.AlertingService({ meta, readonly, config, logger });
    await quiet.putPolicy(PROJECT, {
      channels: [{ name: 'quiet', type: 'log', level: 'info' }],
      routes: [{ channels: ['quiet'], group_by: ['...'], group_wait: '0s' }],
    });
    await quiet.close();
    for (;;) {
      const d = await engine.dispatch();
      await engine.sender.drain();
      if (d.routed + d.queued + d.sendsStarted === 0) break;
    }
    await engine.stop();
    // Back on the real clock: each rule at its next slot from now, as a running engine would have them.
    const realNow = Date.now();
    for (const r of specs) {
      await meta.query(`UPDATE alert_rule_schedule SET next_eval_at = $3 WHERE project_id = $1 AND rule_name = $2`, [
        PROJECT,
        r.name,
        new Date(schedule.nextSlot(realNow, r.interval, schedule.evaluationPhase(PROJECT, r.name, r.interval, true), false)).toISOString(),
      ]);
    }

    // --------------------------------------------------------------- latency: condition true → webhook received
    await rw.command({
      query: `CREATE TABLE bench_latency (project_id String, ts DateTime64(3, 'UTC'), host String, value Float64) ENGINE = MergeTree ORDER BY (project_id, host, ts)`,
    });
    const arrivals = new Map();
    let receiverDown = false;
    const receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        const body = Buffer.concat(chunks).toString('utf8');
        const expected = `v1=${crypto.createHmac('sha256', 'bench-hook-secret').update(`${req.headers['x-tidemark-timestamp']}.${body}`).digest('hex')}`;
        if (req.headers['x-tidemark-signature'] !== expected) {
          res.writeHead(401).end();
          return;
        }
        if (receiverDown) {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
          return;
        }
        for (const a of JSON.parse(body).alerts) if (a.isNew && a.status === 'firing' && !arrivals.has(a.labels.host)) arrivals.set(a.labels.host, at);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => receiver.close(r)));
    const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
    const service = new alerting.AlertingService({ meta, readonly, config, logger });
    await service.putPolicy(LATENCY_PROJECT, {
      channels: [{ name: 'hook', type: 'webhook', url: hookUrl }],
      routes: [{ channels: ['hook'], group_by: ['...'], group_wait: '0s', group_interval: '1s', repeat_interval: '24h' }],
    });
    const LAT_RULES = 4;
    for (let i = 0; i < LAT_RULES; i++) {
      await service.createRule(LATENCY_PROJECT, {
        name: `Latency${i}`,
        sql: `SELECT host, max(value) AS value FROM bench_latency WHERE project_id = {project_id:String} AND cityHash64(host) % ${LAT_RULES} = ${i} AND ts > {now:DateTime64(3, 'UTC')} - INTERVAL 30 SECOND AND ts <= {now:DateTime64(3, 'UTC')} GROUP BY host`,
        interval: '1s',
        condition: { op: '>', threshold: 50 },
        no_data: { state: 'ok' },
      });
    }
    await service.close();
    const live = new alerting.AlertEngine({ config, meta, readonly, logger });
    await live.start();
    const scheduler = await alerting.startScheduler({ tickMs: opts['tick-ms'], logger, onTick: () => live.backgroundTick() });
    let sampleNo = 0;
    /** Makes `n` conditions true, one every 200 ms, and returns their latencies (sorted) and how many never arrived. */
    const measure = async (label, n) => {
      log(`latency (${label}): ${n} conditions, one every 200 ms, ${LAT_RULES} rules every 1 s, tick ${opts['tick-ms']} ms`);
      const madeTrue = new Map();
      for (let i = 0; i < n; i++) {
        const host = `lat-${sampleNo++}`;
        const t0 = Date.now();
        await rw.insert({ table: 'bench_latency', values: [{ project_id: LATENCY_PROJECT, ts: iso(t0), host, value: 99 }], format: 'JSONEachRow' });
        madeTrue.set(host, t0);
        await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - t0))));
      }
      const deadline = Date.now() + 60_000;
      while ([...madeTrue.keys()].some((h) => !arrivals.has(h)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const lat = [...madeTrue]
        .filter(([h]) => arrivals.has(h))
        .map(([h, t]) => arrivals.get(h) - t)
        .sort((a, b) => a - b);
      return { lat, lost: n - lat.length };
    };
    // Idle: the throughput rules paused. Loaded: they run every minute, spread over it.
    await meta.query(`UPDATE alert_rule_schedule SET next_eval_at = 'infinity' WHERE project_id = $1`, [PROJECT]);
    const idle = await measure('only the latency rules', Math.ceil(opts.samples / 2));
    const resumeAt = Date.now();
    for (const r of specs) {
      await meta.query(`UPDATE alert_rule_schedule SET next_eval_at = $3 WHERE project_id = $1 AND rule_name = $2`, [
        PROJECT,
        r.name,
        new Date(schedule.nextSlot(resumeAt, r.interval, schedule.evaluationPhase(PROJECT, r.name, r.interval, true), false)).toISOString(),
      ]);
    }
    const loaded = await measure(`with the ${specs.length} rules running every minute`, Math.floor(opts.samples / 2));
    const { rows: bg } = await meta.query(`SELECT sum(evaluations) AS n FROM alert_rule_schedule WHERE project_id = $1`, [PROJECT]);
    // Redelivery: the receiver is down for --outage-s while conditions become true (the engine
    // retries, backs off and queues); latency = arrival - the moment it answers again.
    const outageMs = opts['outage-s'] * 1000;
    const outageN = opts['outage-samples'];
    log(`redelivery: receiver down for ${opts['outage-s']} s, ${outageN} conditions made true during it`);
    receiverDown = true;
    const downAt = Date.now();
    const queuedHosts = [];
    for (let i = 0; i < outageN; i++) {
      const host = `out-${i}`;
      await rw.insert({ table: 'bench_latency', values: [{ project_id: LATENCY_PROJECT, ts: iso(Date.now()), host, value: 99 }], format: 'JSONEachRow' });
      queuedHosts.push(host);
      const nextAt = downAt + ((i + 1) * (outageMs - 5_000)) / outageN;
      await new Promise((r) => setTimeout(r, Math.max(0, nextAt - Date.now())));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + outageMs - Date.now())));
    receiverDown = false;
    const upAt = Date.now();
    const redeliveryDeadline = upAt + 120_000;
    while (queuedHosts.some((h) => !arrivals.has(h)) && Date.now() < redeliveryDeadline) await new Promise((r) => setTimeout(r, 50));
    const redeliveredLat = queuedHosts
      .filter((h) => arrivals.has(h))
      .map((h) => Math.max(0, arrivals.get(h) - upAt))
      .sort((a, b) => a - b);
    const redelivery = { lat: redeliveredLat, lost: outageN - redeliveredLat.length };
    const { rows: outageAttempts } = await meta.query(
      `SELECT count(*)::int AS n FROM alert_notification_attempts a JOIN alert_notifications n ON n.id = a.notification_id WHERE n.project_id = $1 AND a.started_at >= $2 AND a.started_at < $3`,
      [LATENCY_PROJECT, new Date(downAt).toISOString(), new Date(upAt).toISOString()],
    );
    await scheduler.stop();
    await live.stop();
    const lost = idle.lost + loaded.lost + redelivery.lost;
    if (lost > 0) {
      const { rows: st } = await meta.query(`SELECT status, count(*) AS n, max(last_error) AS err FROM alert_notifications GROUP BY status`);
      log(`not all received: notifications ${JSON.stringify(st)}`);
    }
    const line = (m) =>
      `p50 ${pct(m.lat, 50)} ms   p90 ${pct(m.lat, 90)} ms   p99 ${pct(m.lat, 99)} ms   max ${m.lat.at(-1)} ms   (${m.lat.length} samples${m.lost ? `, ${m.lost} NOT RECEIVED` : ''})`;

    // --------------------------------------------------------------- report
    const e = median(engineRates);
    const b = median(baseline);
    const out = [
      '',
      `alert engine benchmark (${os.cpus().length} CPUs, Node ${process.version}, ${Math.round((Date.now() - started) / 1000)} s)`,
      `  data: ${total} samples in metrics_raw_v1 (+ rollups), ${METRICS} metrics x ${HOSTS} hosts, one hour`,
      `  rules evaluated per second, ${specs.length} rules, concurrency ${opts.concurrency}, median of ${opts.rounds} rounds:`,
      `    engine   ${e.toFixed(0).padStart(6)} rules/s   (claim + lease, rule SQL, state transaction with outbox; ${firing} firing instances)`,
      `    limit    ${b.toFixed(0).padStart(6)} stmts/s   (the same SQL via @clickhouse/client, no engine)`,
      `    ratio    ${(e / b).toFixed(2).padStart(6)}`,
      `  condition true -> webhook received (for: 0, rule interval 1 s, tick ${opts['tick-ms']} ms, group_wait 0):`,
      `    idle     ${line(idle)}`,
      `    loaded   ${line(loaded)}`,
      `             (loaded: the ${specs.length} rules above running every minute, spread over it; ${bg[0].n} evaluations of them in total)`,
      `  redelivery after a ${opts['outage-s']} s receiver outage (503), receiver back -> each queued notification received:`,
      `    outage   ${line(redelivery)}`,
      `             (${outageN} conditions made true during the outage; ${outageAttempts[0].n} send attempts to the down receiver, ALERTING_RECEIVER_PROBE_MS ${config.ALERTING_RECEIVER_PROBE_MS})`,
      '',
    ];
    process.stdout.write(out.join('\n'));
    if (lost > 0) process.exitCode = 1;
  } finally {
    for (const c of cleanups.reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => undefined);
    await admin.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench-alerting: ${err?.stack ?? err}\n`);
  process.exit(1);
});
