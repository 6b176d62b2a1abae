import { Pool } from 'pg';
import { z } from 'zod';
import { InternalError, pgExec, pgMaybeOne, pgOne, pgRows, rollback, withTransaction } from '../src';
import { services, uniqueName } from './services';

const schema = uniqueName('tm_pgtyped');
let admin: Pool;
let pool: Pool;

const Item = z.object({ id: z.coerce.number().int(), name: z.string(), at: z.date() });
const listItems = { name: 'listItems', sql: 'SELECT id, name, created_at AS at FROM items ORDER BY id', row: Item };

beforeAll(async () => {
  admin = new Pool({ connectionString: services.postgresUrl, max: 2 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    throw new Error(`Postgres not reachable at ${services.postgresUrl} (run: npm run services:up): ${(err as Error).message}`);
  }
  pool = new Pool({ connectionString: services.postgresUrl, options: `-c search_path=${schema}`, max: 2 });
  await pool.query('CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())');
});

afterAll(async () => {
  await pool.end();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

test('rows are checked against the schema and typed by it (bigint as a number, timestamptz as a Date)', async () => {
  expect(await pgExec(pool, 'INSERT INTO items (name) VALUES ($1), ($2)', ['a', 'b'])).toBe(2);
  const rows = await pgRows(pool, listItems);
  expect(rows.map((r) => [r.id, r.name, r.at instanceof Date])).toEqual([
    [1, 'a', true],
    [2, 'b', true],
  ]);
  expect(await pgMaybeOne(pool, { ...listItems, sql: `${listItems.sql} LIMIT 0` })).toBeUndefined();
  await expect(pgOne(pool, listItems)).rejects.toThrow('Postgres query listItems: expected one row, got 2');
});

test('a row that does not match its schema fails with the query name and the column', async () => {
  const wrong = { name: 'wrongShape', sql: 'SELECT id, name FROM items', row: Item };
  const err = await pgRows(pool, wrong).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InternalError);
  expect((err as Error).message).toMatch(/Postgres query wrongShape: unexpected row shape/);
  expect((err as Error).message).toMatch(/at/);
});

test('Postgres errors keep their SQLSTATE so callers can tell a conflict', async () => {
  const err = await pgExec(pool, 'INSERT INTO items (name) VALUES ($1)', ['a']).catch((e: unknown) => e);
  expect((err as { code?: string }).code).toBe('23505');
});

test('withTransaction commits, rolls back on a throw, and rolls back on rollback(value)', async () => {
  const id = await withTransaction(
    pool,
    async (c) => (await pgOne(c, { name: 'ins', sql: "INSERT INTO items (name) VALUES ('c') RETURNING id", row: z.object({ id: z.coerce.number() }) })).id,
  );
  // The conflicting insert of the test before used up id 3 of the sequence.
  expect(id).toBe(4);

  await expect(
    withTransaction(pool, async (c) => {
      await pgExec(c, "INSERT INTO items (name) VALUES ('d')");
      throw new Error('body failed');
    }),
  ).rejects.toThrow('body failed');

  const v = await withTransaction(pool, async (c) => {
    await pgExec(c, "INSERT INTO items (name) VALUES ('e')");
    return rollback('skipped');
  });
  expect(v).toBe('skipped');

  const names = (await pgRows(pool, listItems)).map((r) => r.name);
  expect(names).toEqual(['a', 'b', 'c']);
  // Every client went back to the pool (none leaked by the three paths).
  expect(pool.totalCount - pool.idleCount).toBe(0);
});

test('withTransaction runs at the isolation level asked for', async () => {
  const level = await withTransaction(
    pool,
    async (c) =>
      (await pgOne(c, { name: 'iso', sql: 'SHOW transaction_isolation', row: z.object({ transaction_isolation: z.string() }) })).transaction_isolation,
    { isolation: 'serializable' },
  );
  expect(level).toBe('serializable');
});
