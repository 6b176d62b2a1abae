import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { createLogger, migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../src';
import { services, uniqueName } from './services';

const logger = createLogger({ level: 'silent' });
const schema = uniqueName('tm_pgtest');
let admin: Pool;
const pools: Pool[] = [];

/** A pool whose connections live in this test's own schema. */
function schemaPool(): Pool {
  const p = new Pool({ connectionString: services.postgresUrl, options: `-c search_path=${schema}`, max: 4 });
  pools.push(p);
  return p;
}

beforeAll(async () => {
  admin = new Pool({ connectionString: services.postgresUrl, max: 2 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    throw new Error(`Postgres not reachable at ${services.postgresUrl} (run: npm run services:up): ${(err as Error).message}`);
  }
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

test('the shipped metadata migrations apply once and are idempotent', async () => {
  const pool = schemaPool();
  const first = await migratePostgres({ pool, dir: POSTGRES_MIGRATIONS_DIR, logger });
  expect(first.applied.length).toBeGreaterThan(0);
  const second = await migratePostgres({ pool, dir: POSTGRES_MIGRATIONS_DIR, logger });
  expect(second.applied).toEqual([]);
  expect(second.alreadyApplied).toBe(first.applied.length);
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM tidemark_schema_migrations`);
  expect(Number(rows[0]?.n)).toBe(first.applied.length);
  await pool.query(`INSERT INTO projects (id, name) VALUES ('p1', 'Project one')`);
  await expect(pool.query(`INSERT INTO projects (id, name) VALUES ('Bad Id!', 'x')`)).rejects.toThrow(/check constraint/);
});

test('concurrent migrators apply each file exactly once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-pgmig-'));
  fs.writeFileSync(path.join(dir, '9101_a.sql'), 'CREATE TABLE conc_a (id int PRIMARY KEY);');
  // Not idempotent on purpose: a second application would fail. Versions 91xx:
  // the shipped migrations (applied to this schema by the test above) use 01xx-03xx.
  fs.writeFileSync(path.join(dir, '9102_b.sql'), 'CREATE TABLE conc_b (id int); INSERT INTO conc_b VALUES (1);');
  const a = schemaPool();
  const b = schemaPool();
  const reports = await Promise.all([migratePostgres({ pool: a, dir, logger }), migratePostgres({ pool: b, dir, logger })]);
  // Both runners see all migrations: each file either applied by one or already applied for the other.
  const appliedTotal = reports.reduce((n, r) => n + r.applied.filter((m) => m.name === 'a' || m.name === 'b').length, 0);
  expect(appliedTotal).toBe(2);
  const { rows } = await a.query<{ n: string }>('SELECT count(*) AS n FROM conc_b');
  expect(rows[0]?.n).toBe('1');
  fs.rmSync(dir, { recursive: true });
});

test('a failing file is rolled back whole and named in the error; an edited applied file is refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-pgmig-'));
  fs.writeFileSync(path.join(dir, '0010_ok.sql'), 'CREATE TABLE fail_ok (id int);');
  fs.writeFileSync(path.join(dir, '0011_bad.sql'), 'CREATE TABLE fail_half (id int);\nCREATE TABLEX nope;');
  const pool = schemaPool();
  await expect(migratePostgres({ pool, dir, logger })).rejects.toThrow(/0011_bad\.sql, statement 2/);
  const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('fail_half')::text AS t`);
  expect(rows[0]?.t).toBeNull();
  fs.writeFileSync(path.join(dir, '0011_bad.sql'), 'CREATE TABLE fail_half (id int);');
  await migratePostgres({ pool, dir, logger });
  fs.writeFileSync(path.join(dir, '0010_ok.sql'), 'CREATE TABLE fail_ok (id int, extra int);');
  await expect(migratePostgres({ pool, dir, logger })).rejects.toThrow(/changed after it was applied/);
  fs.rmSync(dir, { recursive: true });
});
