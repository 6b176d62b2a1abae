/**
 * The demo business source end to end (on embedded PGlite, as `tidemark
 * start` runs it, and on the real Postgres), the scheduler, the status
 * the query API reads, the Prometheus gauges, the stall alert rule over
 * ClickHouse, and the role with an ETL_CONFIG file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { Lifecycle, parseConfig, createMetricsRegistry, ConfigError, migratePostgres, type RoleContext } from '@tidemark/core';
import { DEMO_KEYS, DEMO_TABLES } from '../src/demo/schema';
import { createDemoSchema, demoSizes, fillDemo, makeChanges, startChangeLoop } from '../src/demo/generator';
import { demoEtlConfig, runDemoSource } from '../src/demo/run';
import { EtlEngine } from '../src/engine';
import { ETL_ALERT_RULES, getSyncStatus } from '../src/status/status';
import { startEtl } from '../src/role';
import { loadEtlConfigFile } from '../src/config/load';
import { ETL_POSTGRES_MIGRATIONS_DIR } from '../src/migrations';
import { countAndSum, postgresUrl, silent, startHarness, type Harness } from './support/harness';
import { spawnEmbeddedPostgres, type EmbeddedPostgres } from './support/pglite';
import { etlRoleConfigSchema, type EtlRoleConfig } from '../src';

let h: Harness;
let pglite: EmbeddedPostgres;

beforeAll(async () => {
  // PGlite's first start (initdb in WASM) takes a while: overlap it with the rest of the setup.
  [h, pglite] = await Promise.all([startHarness('demo'), spawnEmbeddedPostgres()]);
});

const demoSchemas: string[] = [];

afterAll(async () => {
  await pglite?.stop();
  for (const s of demoSchemas) await h?.admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await h?.close();
});

/** count and sum of the key (and of amount-like columns) of every demo table, source vs view. */
async function expectDemoInSync(source: Pool, schema: string): Promise<void> {
  const sums: Record<string, string> = {
    orders: 'amount',
    products: 'price',
    organizations: 'employees',
    users: 'login_count',
    service_records: 'coalesce(satisfaction, 0)',
  };
  for (const t of DEMO_TABLES) {
    const key = DEMO_KEYS[t];
    const [src] = (
      await source.query(`SELECT count(*)::text AS n, coalesce(sum(${key}), 0)::text AS k, coalesce(sum(${sums[t] ?? key}), 0)::text AS s FROM ${schema}.${t}`)
    ).rows as [Record<string, string>];
    const [dst] = await h.chRows<Record<string, string>>(
      `SELECT toString(count()) AS n, toString(sum(${key})) AS k, toString(sum(${(sums[t] ?? key).replace('coalesce(', 'ifNull(')})) AS s FROM ${h.database}.biz_${t}`,
    );
    const norm = (v: string | undefined) => (v?.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);
    expect({ table: t, n: dst?.n, k: dst?.k, s: norm(dst?.s) }).toEqual({ table: t, n: src.n, k: src.k, s: norm(src.s) });
  }
}

test('demo source on embedded PGlite, which is also the metadata database (as in `tidemark start`): filled, synced into biz_* and kept in sync while it changes', async () => {
  const pool = new Pool({ connectionString: pglite.url, max: 10 });
  try {
    // Checkpoints and status in PGlite too: the 0200 migration and every checkpoint query run there.
    await migratePostgres({ pool, dirs: [ETL_POSTGRES_MIGRATIONS_DIR], logger: silent });
    const demo = await runDemoSource(
      { config: { ETL_DEMO_CUSTOMERS: 50, ETL_DEMO_CHANGES_PER_SECOND: 0 }, meta: pool, logger: silent },
      { schema: 'tidemark_demo' },
    );
    const engine = new EtlEngine({
      config: demo.config,
      clickhouse: h.ch,
      meta: pool,
      logger: silent,
      sourcePools: demo.sourcePools,
      onProgress: () => undefined,
    });
    try {
      const first = await engine.runAll();
      expect(first.map((r) => `${r.table}:${r.status}`).sort()).toEqual(DEMO_TABLES.map((t) => `demo.tidemark_demo.${t}:ok`).sort());
      await expectDemoInSync(pool, 'tidemark_demo');
      // Every row carries its project (the query API scopes each statement by it).
      expect(await h.chRows(`SELECT DISTINCT project_id FROM ${h.database}.biz_orders`)).toEqual([{ project_id: 'default' }]);
      // The names other packages query.
      const views = await h.chRows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${h.database}' AND name LIKE 'biz_%' ORDER BY name`);
      expect(views.map((v) => v.name)).toEqual([
        'biz_customers',
        'biz_customers_v1',
        'biz_orders',
        'biz_orders_v1',
        'biz_organizations',
        'biz_organizations_v1',
        'biz_products',
        'biz_products_v1',
        'biz_roles',
        'biz_roles_v1',
        'biz_service_records',
        'biz_service_records_v1',
        'biz_users',
        'biz_users_v1',
      ]);
      for (let i = 0; i < 5; i++) await makeChanges(pool, 'tidemark_demo', 40, 1000 + i);
      // New rows are stamped by now() of their transaction; let the horizon pass them.
      await new Promise((r) => setTimeout(r, 50));
      const second = await engine.runAll({ reconcile: 'force' });
      expect(second.every((r) => r.status === 'ok')).toBe(true);
      await expectDemoInSync(pool, 'tidemark_demo');
      const status = await getSyncStatus(pool);
      expect(status.tables.filter((t) => t.source === 'demo').map((t) => t.state)).toEqual(DEMO_TABLES.map(() => 'ok'));
    } finally {
      await engine.stop();
      await demo.stop();
    }
  } finally {
    await pool.end();
  }
});

test('the change loop keeps to its rate, and writes nothing once stop() has returned', async () => {
  const schema = `${h.sourceSchema}_loop`;
  demoSchemas.push(schema);
  await createDemoSchema(h.source, schema);
  await fillDemo(h.source, schema, demoSizes(50));
  // A fingerprint of every write the generator makes: rows, and the newest insert or update, per table.
  const fingerprint = async (): Promise<string> => {
    const parts: string[] = [];
    for (const t of DEMO_TABLES) {
      const { rows } = await h.source.query<{ f: string }>(`SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') AS f FROM ${schema}.${t}`);
      parts.push(`${t}:${rows[0]?.f}`);
    }
    return parts.join(' ');
  };
  const before = await fingerprint();
  const perSecond = 40;
  const started = Date.now();
  const loop = startChangeLoop(h.source, schema, { perSecond, logger: silent });
  await new Promise((r) => setTimeout(r, 1_500));
  await loop.stop();
  const seconds = (Date.now() - started) / 1000;
  const made = loop.changes;
  process.stdout.write(`change loop: ${made} changes in ${seconds.toFixed(2)} s at ${perSecond}/s (limit ${Math.ceil(perSecond * seconds)})\n`);
  expect(made).toBeGreaterThan(0);
  expect(made).toBeLessThanOrEqual(Math.ceil(perSecond * seconds));
  const stopped = await fingerprint();
  expect(stopped).not.toBe(before);
  // stop() waited for the run in flight and no run starts after it.
  await new Promise((r) => setTimeout(r, 400));
  expect(await fingerprint()).toBe(stopped);
  expect(loop.changes).toBe(made);
});

test('the schedule keeps the demo source (real Postgres) in sync; status, gauges and the ClickHouse status mirror follow; a stalled table fires the alert rule', async () => {
  const schema = `${h.sourceSchema}_demo`;
  demoSchemas.push(schema);
  await createDemoSchema(h.source, schema);
  await fillDemo(h.source, schema, demoSizes(100));
  const base = demoEtlConfig({ url: postgresUrl, schema, every: '1s' });
  // The products table alerts fast when it stalls.
  for (const t of base.sources[0]?.tables ?? []) t.stallAfterMs = t.name === 'products' ? 2_000 : 60_000;
  const metrics = createMetricsRegistry();
  const engine = new EtlEngine({ config: base, clickhouse: h.ch, meta: h.meta, logger: silent, metrics, statusEveryMs: 500, onProgress: () => undefined });
  await engine.start();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await getSyncStatus(h.meta);
      const mine = status.tables.filter((t) => t.schema === schema);
      if (mine.length === DEMO_TABLES.length && mine.every((t) => t.phase === 'incremental' && t.lastSuccessAt)) break;
      if (Date.now() > deadline) throw new Error(`demo tables not synced by the schedule: ${JSON.stringify(mine.map((t) => [t.name, t.phase, t.lastError]))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < 3; i++) await makeChanges(h.source, schema, 50, 2000 + i);
    const changedAt = Date.now();
    // The next scheduled runs pick the changes up without being asked.
    for (;;) {
      const status = await getSyncStatus(h.meta);
      const orders = status.tables.find((t) => t.schema === schema && t.name === 'orders');
      if (orders?.lastSuccessAt && Date.parse(orders.lastSuccessAt) > changedAt + 50) break;
      if (Date.now() > changedAt + 20_000) throw new Error('scheduled run did not happen');
      await new Promise((r) => setTimeout(r, 200));
    }
    const status = await engine.publishStatus();
    const orders = status.tables.find((t) => t.schema === schema && t.name === 'orders');
    expect(orders).toMatchObject({ state: 'ok', stalled: false, mode: 'cursor', target: 'biz_orders' });
    expect(orders?.rowsSynced).toBeGreaterThanOrEqual(1000);
    expect(orders?.lagSeconds).toBeGreaterThanOrEqual(0);
    const text = await metrics.metrics();
    expect(text).toMatch(new RegExp(`tidemark_etl_rows_synced\\{table="demo\\.${schema}\\.orders"\\} \\d+`));
    expect(text).toMatch(/tidemark_etl_lag_seconds\{table="demo\.[^"]+\.orders"\} [\d.e-]+/);
    const mirrored = await h.chRows<{ table_key: string; state: string }>(
      `SELECT table_key, state FROM ${h.database}.etl_sync_status WHERE table_key = 'demo.${schema}.orders'`,
    );
    expect(mirrored).toEqual([{ table_key: `demo.${schema}.orders`, state: 'ok' }]);
  } finally {
    await engine.stop();
  }
  // The worker is gone: nothing syncs products any more. Past its threshold the rule fires from ClickHouse
  // alone (it compares the last success with now()).
  await new Promise((r) => setTimeout(r, 2_500));
  const rule = ETL_ALERT_RULES.find((r) => r.name === 'etl_sync_stalled');
  const firing = await h.chRows<{ table_key: string }>(
    `SELECT table_key FROM (${rule?.sql.replace(/\betl_sync_status\b/g, `${h.database}.etl_sync_status`)}) ORDER BY table_key`,
  );
  expect(firing.map((f) => f.table_key)).toEqual([`demo.${schema}.products`]);
  const status = await getSyncStatus(h.meta);
  expect(status.tables.find((t) => t.schema === schema && t.name === 'products')).toMatchObject({ stalled: true, state: 'stalled' });
  // Deletes made by the generator are found by reconciliation (every 10 min in the demo config; forced here).
  const once = new EtlEngine({ config: base, clickhouse: h.ch, meta: h.meta, logger: silent, onProgress: () => undefined });
  try {
    expect((await once.runAll({ reconcile: 'force' })).every((r) => r.status === 'ok')).toBe(true);
  } finally {
    await once.stop();
  }
  await expectDemoInSync(h.source, schema);
});

test('the role reads ETL_CONFIG (bad files are named with the field), runs the engine and stops with the lifecycle', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-etl-role-'));
  const file = path.join(dir, 'etl.yaml');
  await h.sql(`CREATE TABLE role_orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO role_orders SELECT g, g FROM generate_series(1, 300) g`);
  fs.writeFileSync(
    file,
    `sources:\n  - name: rolesrc\n    url: \${ROLE_SRC_URL}\n    schema: ${h.sourceSchema}\n    tables:\n      - name: role_orders\n        target: biz_role_orders\n        mode: curser\n`,
  );
  process.env.ROLE_SRC_URL = postgresUrl;
  expect(() => loadEtlConfigFile(file)).toThrow(ConfigError);
  expect(() => loadEtlConfigFile(file)).toThrow(`${file}: sources[0].tables[0].mode: Invalid option: expected one of "cursor"|"cdc"|"full"`);
  fs.writeFileSync(
    file,
    `sources:\n  - name: rolesrc\n    url: \${ROLE_SRC_URL}\n    schema: ${h.sourceSchema}\n    tables:\n      - name: role_orders\n        target: biz_role_orders\n        cursor: { column: updated_at }\n        schedule: 1s\n`,
  );
  const lifecycle = new Lifecycle(silent, 10_000);
  const ctx = {
    config: parseConfig(etlRoleConfigSchema, { ETL_CONFIG: file }),
    logger: silent,
    lifecycle,
    clickhouse: h.ch,
    meta: h.meta,
    kv: undefined as unknown as RoleContext['kv'],
    metrics: createMetricsRegistry(),
  } as RoleContext<EtlRoleConfig>;
  const handle = await startEtl(ctx);
  try {
    expect(handle?.engine.tables().map((t) => t.key)).toEqual([`rolesrc.${h.sourceSchema}.role_orders`]);
    const deadline = Date.now() + 20_000;
    for (;;) {
      // The target appears with the first run.
      const r = await countAndSum(h, 'role_orders', 'biz_role_orders', 'id', 'amount').catch(() => undefined);
      if (r && r.target.n === r.source.n) {
        expect(r.target).toEqual(r.source);
        break;
      }
      if (Date.now() > deadline) throw new Error('the role did not sync the table');
      await new Promise((res) => setTimeout(res, 200));
    }
  } finally {
    await lifecycle.stop('test done');
    delete process.env.ROLE_SRC_URL;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
