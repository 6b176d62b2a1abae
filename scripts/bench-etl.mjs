#!/usr/bin/env node
// ETL benchmark: initial snapshot throughput against this machine's limit,
// and incremental lag (commit on Postgres → queryable in ClickHouse) under a
// steady change rate.
//
//   node scripts/bench-etl.mjs [--rows N] [--rate N] [--seconds N] [--rounds N] [--skip-cdc] [--keep]
//
// 1. Creates the demo business schema (packages/etl, src/demo) in its own
//    schema of the local Postgres (DATABASE_URL) and fills --rows demo orders.
// 2. Limit: `COPY orders TO STDOUT` streamed as-is into an INSERT ... FORMAT
//    TabSeparated of a plain MergeTree with the same column types, one
//    stream, no conversion, no checkpoints.
// 3. Tidemark: the ETL's initial snapshot of the same table (primary-key
//    chunks read in parallel, type-exact conversion, dedup tokens,
//    checkpoints in the metadata Postgres) into biz_orders_v1.
//    With --rounds N both alternate N times and the best of each is compared
//    (other load on a shared machine only makes a run slower).
// 4. Reconciliation: 0.1% backdated updates (no cursor can see them) are found
//    and repaired by content; reports rows/s compared and the event-loop delay.
// 5. Lag: a writer makes --rate changes/s (10 transactions a second) for
//    --seconds; every transaction also sets a probe row to a unique marker,
//    and a poller reads ClickHouse every 20 ms until the marker is
//    queryable: lag = seen − committed (both on this machine's clock).
//    Measured for cursor mode (scheduled every 500 ms) and CDC mode.
// Targets: snapshot ratio ≥ 0.5. Exit code 0 also when a target is missed
// (this is a report); non-zero when the benchmark itself fails (missing
// build, rows lost). Nothing is built here: run
// `npm run build -w @tidemark/core -w @tidemark/embedded-clickhouse -w @tidemark/etl` first.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseFlags } from './lib/bench.mjs';

const TARGET_RATIO = 0.5;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function usage(code) {
  process.stdout.write(
    'usage: node scripts/bench-etl.mjs [--rows N] [--rate N] [--seconds N] [--rounds N] [--skip-cdc] [--keep]\n' +
      '  --rows N     demo orders to snapshot (default 1000000)\n' +
      '  --rate N     changes per second during the lag measurement (default 1000)\n' +
      '  --seconds N  length of each lag measurement (default 20)\n' +
      '  --rounds N   alternate limit and snapshot N times, compare the best of each (default 2)\n' +
      '  --skip-cdc   measure the lag in cursor mode only\n' +
      '  --keep       keep the Postgres schemas and the ClickHouse data directory\n',
  );
  process.exit(code);
}

const opts = parseFlags(process.argv.slice(2), {
  defaults: { rows: 1_000_000, rate: 1000, seconds: 20, rounds: 2, skipCdc: false, keep: false },
  ints: ['rows', 'rate', 'seconds', 'rounds'],
  bools: ['skip-cdc', 'keep'],
  usage,
});

for (const f of ['packages/core/dist/index.js', 'packages/embedded-clickhouse/dist/index.js', 'packages/etl/dist/index.js']) {
  if (!fs.existsSync(path.join(root, f))) {
    process.stderr.write(`bench-etl: ${f} is missing; run: npm run build -w @tidemark/core -w @tidemark/embedded-clickhouse -w @tidemark/etl\n`);
    process.exit(2);
  }
}

const core = require(path.join(root, 'packages/core/dist/index.js'));
const { spawnEmbeddedClickHouse } = require(path.join(root, 'packages/embedded-clickhouse/dist/index.js'));
const etl = require(path.join(root, 'packages/etl/dist/index.js'));
const { Pool } = require('pg');
const { to: copyTo } = require('pg-copy-streams');

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const tag = `${process.pid}_${Date.now().toString(36)}`;
const SCHEMA = `bench_etl_${tag}`;
const META_SCHEMA = `bench_etl_meta_${tag}`;
const CH_DB = `bench_etl_${tag}`;
const SLOT = `bench_etl_${tag}`;
const logger = core.createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench-etl' });
const out = (s) => process.stdout.write(s);
const err = (s) => process.stderr.write(s);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// The embedded server is closed by default (generated passwords); older builds had an open default user.
const chAuth = (server) => (typeof server.auth === 'function' ? server.auth() : { username: 'default', password: '' });

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Only the ETL's ClickHouse migrations (02xx); the temporary folder goes with the run. */
const tmpDirs = [];
function etlMigrationsDir(dir) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-etl-mig-'));
  tmpDirs.push(tmp);
  for (const f of fs.readdirSync(dir)) if (/^02\d\d_.*\.sql$/.test(f)) fs.copyFileSync(path.join(dir, f), path.join(tmp, f));
  return tmp;
}

async function main() {
  const admin = new Pool({ connectionString: DATABASE_URL, max: 2 });
  // The "application": writes as any client would (its sessions are what the cursor horizon watches).
  const writer = new Pool({ connectionString: DATABASE_URL, max: 4, application_name: 'bench-etl-writer', options: `-c search_path=${SCHEMA}` });
  const meta = new Pool({ connectionString: DATABASE_URL, max: 6, options: `-c search_path=${META_SCHEMA}` });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-etl-ch-'));
  let server;
  const cleanups = [];
  try {
    const [{ wal_level: walLevel }] = (await admin.query('SHOW wal_level')).rows;
    const [{ version }] = (await admin.query(`SELECT current_setting('server_version') AS version`)).rows;
    await admin.query(`CREATE SCHEMA ${META_SCHEMA}`);
    await core.migratePostgres({ pool: meta, dirs: [etl.ETL_POSTGRES_MIGRATIONS_DIR], logger });
    server = await spawnEmbeddedClickHouse({ dataDir });
    const chAdmin = new core.ClickHouse({ url: server.url, ...chAuth(server), database: 'default' });
    await core.migrateClickHouse({ admin: chAdmin, database: CH_DB, dir: etlMigrationsDir(core.CLICKHOUSE_MIGRATIONS_DIR), logger });
    await chAdmin.close();
    const ch = new core.ClickHouse({ url: server.url, ...chAuth(server), database: CH_DB, requestTimeoutMs: 600_000 });
    cleanups.push(() => ch.close());
    const chRows = async (query) => (await ch.client.query({ query, format: 'JSONEachRow' })).json();

    // ------------------------------------------------------------ data
    err(`filling ${fmt(opts.rows)} demo orders in ${SCHEMA}…\n`);
    let t = Date.now();
    await etl.createDemoSchema(writer, SCHEMA);
    await etl.fillDemo(writer, SCHEMA, etl.demoSizes(1000, { orders: opts.rows, serviceRecords: 0, users: 0, organizations: 5 }), {
      onProgress: (p) => p.table === 'orders' && err(`  orders ${fmt(p.rows)}/${fmt(p.total)}\r`),
    });
    await writer.query(`VACUUM ANALYZE ${SCHEMA}.orders`);
    err(`\nfilled in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    // Warm the table into the buffer cache, so neither side pays for the first read.
    await writer.query(`SELECT count(*), sum(amount) FROM ${SCHEMA}.orders`);

    // ------------------------------------------------------------ limit
    const limitOnce = async (round) => {
      const table = `limit_orders_${round}`;
      await ch.command(
        `CREATE TABLE ${CH_DB}.${table} (order_id Int64, customer_id Int64, status String, service_type String, product_category String, amount Decimal(14, 2), created_at DateTime64(6, 'UTC'), updated_at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY order_id`,
      );
      const client = new (require('pg').Client)({ connectionString: DATABASE_URL, options: '-c TimeZone=UTC -c DateStyle=ISO' });
      await client.connect();
      const start = Date.now();
      const stream = client.query(
        copyTo(`COPY ${SCHEMA}.orders (order_id, customer_id, status, service_type, product_category, amount, created_at, updated_at) TO STDOUT`),
      );
      await ch.client.insert({ table: `${CH_DB}.${table}`, values: stream, format: 'TabSeparated' });
      const seconds = (Date.now() - start) / 1000;
      await client.end();
      const [{ n }] = await chRows(`SELECT toString(count()) AS n FROM ${CH_DB}.${table}`);
      if (Number(n) !== opts.rows) throw new Error(`limit run landed ${n} rows, expected ${opts.rows}`);
      await ch.command(`DROP TABLE ${CH_DB}.${table}`);
      return { seconds, rate: opts.rows / seconds };
    };

    // ------------------------------------------------------------ snapshot
    const snapshotConfig = (target) =>
      etl.parseEtlConfig({
        sources: [
          {
            name: 'bench',
            url: DATABASE_URL,
            schema: SCHEMA,
            tables: [
              {
                name: 'orders',
                target,
                mode: 'cursor',
                cursor: { column: 'updated_at', overlap: '1s' },
                chunkRows: 100_000,
                parallelism: 2,
                reconcile: false,
                schedule: '500ms',
              },
            ],
          },
        ],
      });
    const snapshotOnce = async (round) => {
      const target = `biz_orders_r${round}`;
      const engine = new etl.EtlEngine({ config: snapshotConfig(target), clickhouse: ch, meta, logger, onProgress: etl.progressPrinter(process.stderr) });
      const start = Date.now();
      const r = await engine.runTable('orders', { reconcile: 'skip' });
      const seconds = (Date.now() - start) / 1000;
      await engine.stop();
      if (r.status !== 'ok') throw new Error(`snapshot failed: ${r.error?.message}`);
      const [src] = (await writer.query(`SELECT count(*)::text AS n, sum(amount)::text AS s FROM ${SCHEMA}.orders`)).rows;
      const [dst] = await chRows(`SELECT toString(count()) AS n, toString(sum(amount)) AS s FROM ${CH_DB}.${target}`);
      if (src.n !== dst.n || Number(src.s) !== Number(dst.s))
        throw new Error(`snapshot mismatch: source ${JSON.stringify(src)} vs target ${JSON.stringify(dst)}`);
      if (round < opts.rounds - 1) {
        // The next round snapshots from scratch; the last one stays for the cursor-mode lag run.
        await meta.query(`DELETE FROM etl_tables`);
        await ch.command(`DROP VIEW IF EXISTS ${CH_DB}.${target}`);
        await ch.command(`DROP TABLE IF EXISTS ${CH_DB}.${target}_v1`);
      }
      return { seconds, rate: opts.rows / seconds, target };
    };

    const limits = [];
    const snaps = [];
    for (let round = 0; round < opts.rounds; round++) {
      err(`round ${round + 1}/${opts.rounds}: limit (COPY → raw insert)…\n`);
      limits.push(await limitOnce(round));
      err(`  ${fmt(limits.at(-1).rate)} rows/s\nround ${round + 1}/${opts.rounds}: tidemark snapshot…\n`);
      snaps.push(await snapshotOnce(round));
      err(`  ${fmt(snaps.at(-1).rate)} rows/s\n`);
    }
    const bestLimit = limits.reduce((a, b) => (b.rate > a.rate ? b : a));
    const bestSnap = snaps.reduce((a, b) => (b.rate > a.rate ? b : a));
    const ratio = bestSnap.rate / bestLimit.rate;

    // ------------------------------------------------------------ reconciliation
    // On the last snapshot's target: 0.1% of the orders get a backdated update (the
    // touch trigger disabled, the stamp set a day back, so no cursor sees it); a
    // forced reconciliation must find and repair exactly those by content, while
    // the event loop's delay is sampled every 10 ms.
    let recon;
    {
      const target = snaps.at(-1).target;
      await writer.query(`ALTER TABLE ${SCHEMA}.orders DISABLE TRIGGER touch_updated_at`);
      const upd = await writer.query(`UPDATE ${SCHEMA}.orders SET amount = amount + 1, updated_at = updated_at - interval '1 day' WHERE order_id % 1000 = 0`);
      await writer.query(`ALTER TABLE ${SCHEMA}.orders ENABLE TRIGGER touch_updated_at`);
      const engine = new etl.EtlEngine({ config: snapshotConfig(target), clickhouse: ch, meta, logger, onProgress: () => undefined });
      err(`reconciliation of ${fmt(opts.rows)} keys (keys and contents), ${fmt(upd.rowCount)} backdated updates…\n`);
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const start = Date.now();
      const r = await engine.runTable('orders', { reconcile: 'force' });
      const seconds = (Date.now() - start) / 1000;
      loop.disable();
      await engine.stop();
      if (r.status !== 'ok' || !r.reconcile?.content) throw new Error(`reconciliation failed: ${r.error?.message ?? 'no content result'}`);
      const [src] = (await writer.query(`SELECT count(*)::text AS n, sum(amount)::text AS s FROM ${SCHEMA}.orders`)).rows;
      const [dst] = await chRows(`SELECT toString(count()) AS n, toString(sum(amount)) AS s FROM ${CH_DB}.${target}`);
      if (src.n !== dst.n || Number(src.s) !== Number(dst.s))
        throw new Error(`reconciliation left a mismatch: source ${JSON.stringify(src)} vs target ${JSON.stringify(dst)}`);
      recon = {
        seconds,
        content: r.reconcile.content,
        backdated: upd.rowCount,
        p50: loop.percentile(50) / 1e6,
        p99: loop.percentile(99) / 1e6,
        max: loop.max / 1e6,
      };
    }

    // ------------------------------------------------------------ lag
    const PROBES = 50;
    // Markers only grow, across both lag runs: a probe row never already holds a later marker.
    let marker = 1_000_000_000;
    const probeIds = Array.from({ length: PROBES }, (_, i) => i + 1);
    const measureLag = async (label, view) => {
      const samples = [];
      const pending = new Map();
      let changes = 0;
      let stop = false;
      const started = Date.now();
      const tickMs = 100;
      const perTick = Math.max(1, Math.round((opts.rate * tickMs) / 1000));
      const writerLoop = (async () => {
        let tick = 0;
        while (!stop) {
          const due = started + tick * tickMs;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
          const c = await writer.connect();
          try {
            await c.query('BEGIN');
            // perTick - 1 ordinary changes plus one probe, one transaction.
            const ids = Array.from({ length: perTick - 1 }, () => PROBES + 1 + Math.floor(Math.random() * (opts.rows - PROBES)));
            await c.query(`UPDATE ${SCHEMA}.orders SET amount = amount + 0.01, status = 'paid' WHERE order_id = ANY($1::bigint[])`, [ids]);
            const id = probeIds[tick % PROBES];
            const m = ++marker;
            await c.query(`UPDATE ${SCHEMA}.orders SET amount = $2 WHERE order_id = $1`, [id, m]);
            await c.query('COMMIT');
            pending.set(id, { marker: m, committed: Date.now() });
            changes += perTick;
          } finally {
            c.release();
          }
          tick++;
          if (Date.now() - started > opts.seconds * 1000) stop = true;
        }
      })();
      const pollLoop = (async () => {
        while (!stop || pending.size > 0) {
          if (pending.size > 0) {
            const ids = [...pending.keys()];
            const rows = await chRows(
              `SELECT order_id, toString(argMax(amount, _version)) AS amount FROM ${CH_DB}.${view}_v1 WHERE order_id IN (${ids.map(Number).join(',')}) GROUP BY order_id`,
            );
            const now = Date.now();
            for (const r of rows) {
              const p = pending.get(Number(r.order_id));
              if (p && Number(r.amount) >= p.marker) {
                if (Number(r.amount) === p.marker) samples.push((now - p.committed) / 1000);
                pending.delete(Number(r.order_id));
              }
            }
          }
          if (stop && Date.now() - started > opts.seconds * 1000 + 30_000) break;
          await sleep(20);
        }
      })();
      await writerLoop;
      await pollLoop;
      const seconds = (Date.now() - started) / 1000;
      const sorted = samples.sort((a, b) => a - b);
      return {
        label,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1),
        samples: sorted.length,
        rate: changes / Math.min(seconds, opts.seconds + 0.5),
      };
    };

    const lags = [];
    {
      // Cursor mode on the snapshot's target, scheduled by bree every 500 ms.
      const target = snaps.at(-1).target;
      const engine = new etl.EtlEngine({ config: snapshotConfig(target), clickhouse: ch, meta, logger, onProgress: () => undefined, statusEveryMs: 5_000 });
      await engine.start();
      while ((await engine.state('orders'))?.phase !== 'incremental') await sleep(200);
      err(`lag, cursor mode: ${opts.rate} changes/s for ${opts.seconds} s…\n`);
      lags.push(await measureLag('cursor mode (bree every 500 ms)', target));
      await engine.stop();
    }
    if (!opts.skipCdc) {
      if (walLevel !== 'logical') {
        lags.push({ label: 'cdc mode', skipped: `wal_level is ${walLevel}; run scripts/services/postgres-logical.sh` });
      } else {
        const cfg = etl.parseEtlConfig({
          sources: [
            {
              name: 'benchcdc',
              url: DATABASE_URL,
              schema: SCHEMA,
              cdc: { slot: SLOT, publication: SLOT, flushInterval: '100ms' },
              tables: [{ name: 'orders', target: 'biz_orders_cdc', mode: 'cdc', chunkRows: 100_000, parallelism: 2, reconcile: false }],
            },
          ],
        });
        const engine = new etl.EtlEngine({ config: cfg, clickhouse: ch, meta, logger, onProgress: () => undefined, cdcHeartbeatMs: 1000 });
        cleanups.push(async () => {
          await admin
            .query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [SLOT])
            .catch(() => undefined);
          await admin.query(`DROP PUBLICATION IF EXISTS ${SLOT}`).catch(() => undefined);
        });
        err('cdc mode: snapshot of the table first…\n');
        const r = await engine.runTable('orders');
        if (r.status !== 'ok') throw new Error(`cdc snapshot failed: ${r.error?.message}`);
        await engine.startCdc();
        await engine.stream('benchcdc').waitCaughtUp(120_000);
        err(`lag, cdc mode: ${opts.rate} changes/s for ${opts.seconds} s…\n`);
        lags.push(await measureLag('cdc mode (flush every 100 ms)', 'biz_orders_cdc'));
        await engine.stream('benchcdc').waitCaughtUp(120_000);
        const [src] = (await writer.query(`SELECT count(*)::text AS n, sum(amount)::text AS s FROM ${SCHEMA}.orders`)).rows;
        const [dst] = await chRows(`SELECT toString(count()) AS n, toString(sum(amount)) AS s FROM ${CH_DB}.biz_orders_cdc`);
        if (src.n !== dst.n || Number(src.s) !== Number(dst.s))
          throw new Error(`cdc mismatch after the load: source ${JSON.stringify(src)} vs target ${JSON.stringify(dst)}`);
        await engine.stop();
      }
    }

    // ------------------------------------------------------------ report
    const cpu = os.cpus();
    out(`\nETL benchmark — PostgreSQL ${version} → embedded ClickHouse (chDB) over HTTP, ${cpu.length} cores (${cpu[0]?.model ?? '?'})\n`);
    out(`initial snapshot of ${fmt(opts.rows)} demo orders (best of ${opts.rounds}):\n`);
    out(`  limit: COPY out → raw TabSeparated insert, one stream   ${fmt(bestLimit.rate).padStart(10)} rows/s  (${bestLimit.seconds.toFixed(2)} s)\n`);
    out(`  tidemark snapshot: chunks ×2, exact types, checkpoints  ${fmt(bestSnap.rate).padStart(10)} rows/s  (${bestSnap.seconds.toFixed(2)} s)\n`);
    out(`  ratio ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO})${ratio >= TARGET_RATIO ? '' : '  BELOW TARGET'}\n`);
    if (opts.rounds > 1) {
      const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const ml = median(limits.map((l) => l.rate));
      const ms = median(snaps.map((l) => l.rate));
      out(
        `  every round (rows/s): limit ${limits.map((l) => fmt(l.rate)).join(' / ')}; tidemark ${snaps.map((l) => fmt(l.rate)).join(' / ')}; ratio of medians ${(ms / ml).toFixed(2)}\n`,
      );
      out(`  (the limit is one COPY stream; the snapshot reads 2 chunks at once, so it can pass the limit when cores are free)\n`);
    }
    out(`reconciliation of ${fmt(opts.rows)} keys by key and content (${fmt(recon.backdated)} backdated updates planted):\n`);
    out(
      `  ${fmt(recon.content.rowsCompared / recon.seconds).padStart(10)} rows/s compared by content  (${recon.seconds.toFixed(2)} s in all; content ranges ${recon.content.seconds.toFixed(2)} s)\n`,
    );
    out(
      `  found ${fmt(recon.content.changed)} changed rows in ${fmt(recon.content.differingRanges)} of ${fmt(recon.content.ranges)} ranges, repaired ${fmt(recon.content.repaired)}; source and target sums equal after\n`,
    );
    out(
      `  event-loop delay during it: p50 ${recon.p50.toFixed(1)} ms   p99 ${recon.p99.toFixed(1)} ms   max ${recon.max.toFixed(1)} ms  (target < 100 ms)${recon.max < 100 ? '' : '  MAX ABOVE TARGET'}\n`,
    );
    out(`incremental lag, commit → queryable, ${fmt(opts.rate)} changes/s for ${opts.seconds} s:\n`);
    for (const l of lags) {
      if (l.skipped) out(`  ${l.label}: skipped (${l.skipped})\n`);
      else
        out(
          `  ${l.label.padEnd(34)} p50 ${l.p50.toFixed(2)} s   p99 ${l.p99.toFixed(2)} s   max ${l.max.toFixed(2)} s   (${l.samples} probes, ${fmt(l.rate)} changes/s achieved)\n`,
        );
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (!opts.keep) {
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS ${META_SCHEMA} CASCADE`).catch(() => undefined);
    }
    await writer.end();
    await meta.end();
    await admin.end();
    await server?.stop();
    if (!opts.keep) fs.rmSync(dataDir, { recursive: true, force: true });
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => {
  err(`bench-etl: ${e?.stack ?? e}\n`);
  process.exit(1);
});
