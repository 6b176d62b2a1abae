#!/usr/bin/env node
// Throughput of the embedded Postgres over the wire, next to a real Postgres
// and to bare @electric-sql/pglite-socket, all through a pg.Pool of 10.
//
//   npm run build -w @tidemark/embedded-postgres
//   node packages/embedded-postgres/bench/throughput.js [N]
//
// REAL_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the
// real server; it is skipped when unreachable. Every target gets a fresh
// table; temp data dirs are removed at the end. Bounded: N statements per
// workload (default 5000), loopback only.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Pool } = require('pg');
const { createLogger } = require('@tidemark/core');
const { startEmbeddedPostgres } = require('..');

const N = Number(process.argv[2] ?? 5000);
const CONCURRENCY = 10;
const REAL_PG_URL = process.env.REAL_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = createLogger({ level: 'silent' });

/** Runs `count` calls of `fn(i)` with CONCURRENCY in flight; returns per-second rate. */
async function rate(count, fn) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await fn(next++);
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return Math.round(count / s);
}

/** 10 overlapping transactions, one rolled back: counts rows that should not exist and errors seen. */
async function isolationCheck(pool, t) {
  await pool.query(`CREATE TABLE ${t}_iso (tx int, step int)`);
  const errors = [];
  await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`INSERT INTO ${t}_iso VALUES ($1, 1)`, [i]);
        await c.query('SELECT pg_sleep(0.02)');
        await c.query(`INSERT INTO ${t}_iso VALUES ($1, 2)`, [i]);
        await c.query(i === 3 ? 'ROLLBACK' : 'COMMIT');
      } catch (err) {
        errors.push(`${err.code ?? ''} ${err.message}`.trim());
        await c.query('ROLLBACK').catch(() => undefined);
      } finally {
        c.release();
      }
    }),
  );
  const r = await pool.query(`SELECT count(*) FILTER (WHERE tx = 3)::int AS leaked, count(*)::int AS n FROM ${t}_iso`);
  return { rows: r.rows[0].n, expectedRows: 18, rolledBackRowsVisible: r.rows[0].leaked, errors: [...new Set(errors)].slice(0, 3) };
}

/**
 * Different statements from 10 connections at once, outside transactions:
 * unnamed and named prepared statements. Counts wrong answers and errors.
 */
async function interleavingCheck(pool) {
  let wrong = 0;
  const errors = [];
  const check = (sql, i, k, name) =>
    pool.query(name ? { name, text: sql, values: [i] } : { text: sql, values: [i] }).then(
      (r) => {
        if (r.rows[0]?.v !== i + k) wrong++;
      },
      (err) => errors.push(`${err.code ?? ''} ${err.message}`.trim()),
    );
  await rate(2000, (i) => check(`SELECT $1::int + ${i % 10} AS v`, i, i % 10));
  await rate(2000, (i) => check(`SELECT $1::int + ${i % 5} AS v`, i, i % 5, `named_${i % 5}`));
  // Messages larger than a socket read (~64 KiB) reach the server in pieces.
  const big = 'x'.repeat(200_000);
  await rate(200, (i) =>
    pool.query(`SELECT length($1::text) + $2::int + ${i % 10} AS v`, [big, i]).then(
      (r) => {
        if (r.rows[0]?.v !== big.length + i + (i % 10)) wrong++;
      },
      (err) => errors.push(`${err.code ?? ''} ${err.message}`.trim()),
    ),
  );
  return { statements: 4200, wrongAnswers: wrong, errors: errors.length, sampleErrors: [...new Set(errors)].slice(0, 3) };
}

async function measure(name, url) {
  const pool = new Pool({ connectionString: url, max: CONCURRENCY });
  pool.on('error', () => undefined);
  const t = `bench_${crypto.randomBytes(4).toString('hex')}`;
  try {
    await pool.query(`CREATE TABLE ${t} (id bigserial PRIMARY KEY, w int NOT NULL, v text NOT NULL)`);
    // Warm every pool connection (and, for the embedded server, the JIT).
    await rate(100, () => pool.query('SELECT 1'));
    const inserts = await rate(N, (i) => pool.query(`INSERT INTO ${t} (w, v) VALUES ($1, $2)`, [i % CONCURRENCY, `value-${i}`]));
    const selects = await rate(N, (i) => pool.query(`SELECT v FROM ${t} WHERE id = $1`, [1 + (i % N)]));
    const txs = await rate(Math.round(N / 5), async (i) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`INSERT INTO ${t} (w, v) VALUES ($1, $2)`, [i % CONCURRENCY, 'tx']);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    });
    const iso = await isolationCheck(pool, t).catch((err) => ({ failed: err.message }));
    const inter = await interleavingCheck(pool).catch((err) => ({ failed: err.message }));
    await pool.query(`DROP TABLE ${t}`).catch(() => undefined);
    await pool.query(`DROP TABLE ${t}_iso`).catch(() => undefined);
    return { target: name, 'inserts/s': inserts, 'pk selects/s': selects, 'BEGIN+INSERT+COMMIT/s': txs, isolation: iso, interleaving: inter };
  } finally {
    await pool.end();
  }
}

async function main() {
  const results = [];
  const dirs = [];
  const tmp = () => {
    const d = path.join(os.tmpdir(), `tidemark-pg-bench-${crypto.randomBytes(4).toString('hex')}`);
    dirs.push(d);
    return d;
  };
  try {
    const embedded = await startEmbeddedPostgres({ dataDir: tmp(), port: 0, logger });
    try {
      results.push(await measure('@tidemark/embedded-postgres', embedded.url));
    } finally {
      await embedded.close();
    }

    // Bare pglite-socket with 10 connections allowed: for comparison only; it
    // interleaves connections message by message (see README).
    const { PGlite } = require('@electric-sql/pglite');
    const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');
    const db = new PGlite(tmp());
    await db.waitReady;
    const raw = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: CONCURRENCY });
    await raw.start();
    try {
      results.push(await measure('bare pglite-socket 0.2.17 (maxConnections 10)', `postgres://postgres@${raw.getServerConn()}/postgres`));
    } catch (err) {
      results.push({ target: 'bare pglite-socket 0.2.17 (maxConnections 10)', failed: err.message });
    } finally {
      await raw.stop();
      await db.close();
    }

    try {
      results.push(await measure(`real Postgres (${REAL_PG_URL.replace(/\/\/[^@]*@/, '//')})`, REAL_PG_URL));
    } catch (err) {
      results.push({ target: 'real Postgres', skipped: err.message });
    }
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
  process.stdout.write(`N=${N}, pg.Pool max=${CONCURRENCY}, ${os.cpus().length} cores, node ${process.version}\n`);
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
