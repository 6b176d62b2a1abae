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
/** Schemas created by tests that need a database of their own, dropped at the end. */
const extraSchemas: string[] = [];

/** A pool whose connections live in this test's own schema (or in `inSchema`). */
function schemaPool(inSchema = schema): Pool {
  const p = new Pool({ connectionString: services.postgresUrl, options: `-c search_path=${inSchema}`, max: 4 });
  pools.push(p);
  return p;
}

/** A fresh, empty schema: a database no migration has touched. */
async function freshSchema(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await admin.query(`CREATE SCHEMA ${name}`);
  extraSchemas.push(name);
  return name;
}

/** Every package's metadata Postgres migrations folder (core's and the roles'), as the platform composes them. */
function packageMigrationDirs(): string[] {
  const packages = path.resolve(__dirname, '..', '..');
  return fs
    .readdirSync(packages)
    .map((p) => path.join(packages, p, 'sql', 'postgres'))
    .filter((d) => fs.existsSync(d));
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
  for (const s of [schema, ...extraSchemas]) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
});

test('the shipped metadata migrations apply once and are idempotent', async () => {
  const pool = schemaPool();
  const first = await migratePostgres({ pool, dirs: [POSTGRES_MIGRATIONS_DIR], logger });
  expect(first.applied.length).toBeGreaterThan(0);
  const second = await migratePostgres({ pool, dirs: [POSTGRES_MIGRATIONS_DIR], logger });
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
  // the shipped migrations (core's applied to this schema by the test above) use 00xx-03xx.
  fs.writeFileSync(path.join(dir, '9102_b.sql'), 'CREATE TABLE conc_b (id int); INSERT INTO conc_b VALUES (1);');
  const a = schemaPool();
  const b = schemaPool();
  const reports = await Promise.all([migratePostgres({ pool: a, dirs: [dir], logger }), migratePostgres({ pool: b, dirs: [dir], logger })]);
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
  await expect(migratePostgres({ pool, dirs: [dir], logger })).rejects.toThrow(/0011_bad\.sql, statement 2/);
  const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('fail_half')::text AS t`);
  expect(rows[0]?.t).toBeNull();
  fs.writeFileSync(path.join(dir, '0011_bad.sql'), 'CREATE TABLE fail_half (id int);');
  await migratePostgres({ pool, dirs: [dir], logger });
  fs.writeFileSync(path.join(dir, '0010_ok.sql'), 'CREATE TABLE fail_ok (id int, extra int);');
  await expect(migratePostgres({ pool, dirs: [dir], logger })).rejects.toThrow(/changed after it was applied/);
  fs.rmSync(dir, { recursive: true });
});

test('a database migrated from one folder (before the roles owned their files) is up to date for the per-package folders', async () => {
  const dirs = packageMigrationDirs();
  expect(dirs).toContain(POSTGRES_MIGRATIONS_DIR);
  expect(dirs.length).toBeGreaterThan(1);
  // The old layout: every file in core's one folder, same names and bytes.
  const single = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-pgmig-single-'));
  for (const d of dirs) for (const f of fs.readdirSync(d)) fs.copyFileSync(path.join(d, f), path.join(single, f));
  const pool = schemaPool(await freshSchema('tm_pgsplit'));
  const before = await migratePostgres({ pool, dirs: [single], logger });
  expect(before.applied.length).toBe(fs.readdirSync(single).length);
  const recorded = async () =>
    (await pool.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM tidemark_schema_migrations ORDER BY version'))
      .rows;
  const identity = await recorded();

  const after = await migratePostgres({ pool, dirs, logger });
  expect(after.applied).toEqual([]);
  expect(after.alreadyApplied).toBe(before.applied.length);
  expect(await recorded()).toEqual(identity);
  fs.rmSync(single, { recursive: true });
});

test('two folders with the same version are refused, naming both files, before anything is applied', async () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-pgmig-a-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-pgmig-b-'));
  fs.writeFileSync(path.join(a, '9200_first.sql'), 'CREATE TABLE dup_first (id int);');
  fs.writeFileSync(path.join(a, '9201_a_side.sql'), 'CREATE TABLE dup_a (id int);');
  fs.writeFileSync(path.join(b, '9201_b_side.sql'), 'CREATE TABLE dup_b (id int);');
  const pool = schemaPool();
  const refused = migratePostgres({ pool, dirs: [a, b], logger });
  await expect(refused).rejects.toThrow('two migrations share version 9201');
  await expect(refused).rejects.toThrow(path.join(a, '9201_a_side.sql'));
  await expect(refused).rejects.toThrow(path.join(b, '9201_b_side.sql'));
  // Not even the lower, unique version ran: a half-applied set would be worse than none.
  const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('dup_first')::text AS t`);
  expect(rows[0]?.t).toBeNull();
  fs.rmSync(a, { recursive: true });
  fs.rmSync(b, { recursive: true });
});
