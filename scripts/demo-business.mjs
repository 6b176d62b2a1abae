#!/usr/bin/env node
// The demo business source: creates the demo schema (customers, orders,
// service records, users, organizations, roles, products) in a Postgres
// database, fills it at a chosen size, and with --keep-changing keeps
// inserting, updating and deleting at a bounded rate until Ctrl-C.
//
//   node scripts/demo-business.mjs [--url URL] [--schema NAME] [--customers N] [--orders N]
//        [--service-records N] [--users N] [--organizations N] [--products N] [--append]
//        [--keep-changing] [--rate N] [--duration SECONDS] [--drop]
//
// Sizes default from --customers (orders 10x, service records 3x, users 2x,
// organizations /10, 200 products). An already filled schema is left as it
// is unless --append. Point the ETL at it with the demo config (docs/etl.md),
// or let `tidemark start` with ETL_DEMO=true do all of this itself.
// Uses the built packages: npm run build -w @tidemark/core -w @tidemark/etl

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function usage(code) {
  process.stdout.write(
    'usage: node scripts/demo-business.mjs [options]\n' +
      '  --url URL              Postgres to create the schema in (default DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)\n' +
      '  --schema NAME          schema name (default tidemark_demo)\n' +
      '  --customers N          customers (default 2000); other sizes follow unless given:\n' +
      '  --orders N --service-records N --users N --organizations N --products N\n' +
      '  --append               add the rows even if the schema already has data\n' +
      '  --keep-changing        keep making changes until Ctrl-C (or --duration)\n' +
      '  --rate N               changes per second while changing (default 20, at most 10000)\n' +
      '  --duration SECONDS     stop changing after this long\n' +
      '  --drop                 drop the schema and exit\n',
  );
  process.exit(code);
}

const opts = {
  url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  schema: 'tidemark_demo',
  customers: 2000,
  rate: 20,
  keepChanging: false,
  append: false,
  drop: false,
};
const sizeFlags = { orders: 'orders', 'service-records': 'serviceRecords', users: 'users', organizations: 'organizations', products: 'products' };
const overrides = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => {
    const v = argv[++i];
    if (v === undefined) {
      process.stderr.write(`${a} needs a value\n`);
      usage(2);
    }
    return v;
  };
  const int = (v) => {
    const n = Number(String(v).replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0) {
      process.stderr.write(`${a} needs a non-negative integer (got ${v})\n`);
      usage(2);
    }
    return n;
  };
  if (a === '-h' || a === '--help') usage(0);
  else if (a === '--url') opts.url = next();
  else if (a === '--schema') opts.schema = next();
  else if (a === '--customers') opts.customers = int(next());
  else if (a === '--rate') opts.rate = Math.min(10_000, int(next()));
  else if (a === '--duration') opts.duration = int(next());
  else if (a === '--keep-changing') opts.keepChanging = true;
  else if (a === '--append') opts.append = true;
  else if (a === '--drop') opts.drop = true;
  else if (a.startsWith('--') && sizeFlags[a.slice(2)]) overrides[sizeFlags[a.slice(2)]] = int(next());
  else {
    process.stderr.write(`unknown argument: ${a}\n`);
    usage(2);
  }
}
if (!/^[a-z_][a-z0-9_]*$/.test(opts.schema)) {
  process.stderr.write(`--schema must be a lower-case identifier (got ${opts.schema})\n`);
  process.exit(2);
}

const dist = path.join(root, 'packages/etl/dist/index.js');
if (!fs.existsSync(dist)) {
  process.stderr.write('demo-business: packages/etl/dist is missing; run: npm run build -w @tidemark/core -w @tidemark/etl\n');
  process.exit(2);
}
const etl = require(dist);
const { Pool } = require('pg');

const log = (s) => process.stderr.write(`${s}\n`);

async function main() {
  const pool = new Pool({ connectionString: opts.url, max: 2, application_name: 'tidemark-demo-generator' });
  try {
    if (opts.drop) {
      await pool.query(`DROP SCHEMA IF EXISTS "${opts.schema}" CASCADE`);
      log(`dropped schema ${opts.schema}`);
      return;
    }
    await etl.createDemoSchema(pool, opts.schema);
    const counts = await etl.demoCounts(pool, opts.schema);
    if (counts.customers > 0 && !opts.append) {
      log(
        `schema ${opts.schema} already has data (${Object.entries(counts)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ')}); --append adds more`,
      );
    } else {
      const sizes = etl.demoSizes(opts.customers, overrides);
      log(
        `filling ${opts.schema}: ${Object.entries(sizes)
          .map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`)
          .join(', ')}`,
      );
      const t0 = Date.now();
      await etl.fillDemo(pool, opts.schema, sizes, {
        onProgress: (p) => log(`  ${p.table} ${p.rows.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}`),
      });
      log(`filled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (!opts.keepChanging) return;
    log(`changing ${opts.schema} at ${opts.rate} changes/s${opts.duration ? ` for ${opts.duration} s` : ''}; Ctrl-C stops`);
    const loop = etl.startChangeLoop(pool, opts.schema, { perSecond: opts.rate, logger: { warn: (o, m) => log(`warning: ${m}: ${o?.err?.message ?? ''}`) } });
    const started = Date.now();
    await new Promise((resolve) => {
      const report = setInterval(() => {
        const s = (Date.now() - started) / 1000;
        log(`  ${loop.changes.toLocaleString('en-US')} changes in ${s.toFixed(0)} s (${Math.round(loop.changes / s)}/s)`);
      }, 5000);
      const done = () => {
        clearInterval(report);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (opts.duration) setTimeout(done, opts.duration * 1000);
    });
    await loop.stop();
    log(`stopped after ${loop.changes.toLocaleString('en-US')} changes`);
  } finally {
    await pool.end();
  }
}

main().catch((e) => {
  process.stderr.write(`demo-business: ${e?.message ?? e}\n`);
  process.exit(1);
});
