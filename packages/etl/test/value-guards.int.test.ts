/**
 * Issue 15 / 13 traps against the real Postgres and the embedded ClickHouse:
 * the numeric guard checks the value (not its written scale), narrowing
 * Decimal overrides are checked per value with unfit rows quarantined,
 * primary keys keep their declared order, the keyless-table route works,
 * and `defaults:` takes the table options (exclude, types).
 */
import { getTableState } from '../src/checkpoint/store';
import { listQuarantinedRows } from '../src/sync/quarantine';
import { getSyncStatus } from '../src/status/status';
import { backoffMs, runTable, sayOnce } from '../src/sync/table-sync';
import { countAndSum, sourceConfig, startHarness, tableOf, type Harness } from './support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('guards');
});

afterAll(async () => {
  await h?.close();
});

function cursorTable(name: string, extra: Record<string, unknown> = {}) {
  return { name, target: `biz_${name}`, mode: 'cursor', cursor: { column: 'updated_at', overlap: 0 }, reconcile: false, ...extra };
}

test('5.0000000000 in an unconstrained numeric lands (the value fits Decimal(38, 9), whatever its written scale)', async () => {
  await h.sql(`CREATE TABLE amounts (id int PRIMARY KEY, v numeric, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO amounts VALUES (1, 5.0000000000), (2, 12.340000000000000), (3, -0.000000001000), (4, NULL)`);
  const s = sourceConfig(h, [cursorTable('amounts')]);
  const r = await runTable(h.deps(s), tableOf(s, 'amounts'));
  expect(r.status).toBe('ok');
  expect(r.quarantinedRows ?? 0).toBe(0);
  expect(await h.chRows(`SELECT id, toString(v) AS v FROM ${h.database}.biz_amounts ORDER BY id`)).toEqual([
    { id: 1, v: '5' },
    { id: 2, v: '12.34' },
    { id: 3, v: '-0.000000001' },
    { id: 4, v: null },
  ]);
  const c = await countAndSum(h, 'amounts', 'biz_amounts', 'id', 'v');
  expect(c.target).toEqual(c.source);
});

test('a Decimal(18, 4) override on numeric(38,10): fitting values land, the others are quarantined with key, column and value', async () => {
  await h.sql(`CREATE TABLE big (id int PRIMARY KEY, big numeric(38,10) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO big SELECT g, g * 1.25 FROM generate_series(1, 170) g`);
  await h.sql(`INSERT INTO big VALUES (171, 0.00001), (172, 100000000000000)`);
  const s = sourceConfig(h, [cursorTable('big', { types: { big: 'Decimal(18, 4)' } })]);
  const table = `src.${h.sourceSchema}.big`;
  const r = await runTable(h.deps(s), tableOf(s, 'big'));
  expect(r.status).toBe('ok');
  expect(r.quarantinedRows).toBe(2);
  const q = await listQuarantinedRows(h.meta, { table });
  expect(q.map((x) => x.reason).sort()).toEqual([
    `${table}: row (id) = (171): column big (numeric(38,10)) holds a value that does not fit Decimal(18, 4): 0.0000100000`,
    `${table}: row (id) = (172): column big (numeric(38,10)) holds a value that does not fit Decimal(18, 4): 100000000000000.0000000000`,
  ]);
  expect(await h.chRows(`SELECT count() AS n FROM ${h.database}.biz_big`)).toEqual([{ n: '170' }]);
  // The API's view: scoped to the caller's project.
  expect(await listQuarantinedRows(h.meta, { table, project: 'default' })).toHaveLength(2);
  expect(await listQuarantinedRows(h.meta, { table, project: 'other' })).toEqual([]);
  expect((await getTableState(h.meta, table))?.lastError ?? null).toBeNull();

  // Both rows are retried when they change: fixed ones land and leave the quarantine.
  await h.sql(`UPDATE big SET big = 0.0001, updated_at = now() WHERE id = 171`);
  await h.sql(`UPDATE big SET big = 99999999999999.9999, updated_at = now() WHERE id = 172`);
  const again = await runTable(h.deps(s), tableOf(s, 'big'));
  expect(again.quarantinedRows).toBe(0);
  expect(await listQuarantinedRows(h.meta, { table })).toEqual([]);
  const c = await countAndSum(h, 'big', 'biz_big', 'id', 'big');
  expect(c.target).toEqual(c.source);
});

test('one unlandable row among good ones in the snapshot: the rest of the table lands, later changes keep landing', async () => {
  await h.sql(`CREATE TABLE mixed (id int PRIMARY KEY, day date, amount numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO mixed SELECT g, DATE '2024-01-01' + g, g FROM generate_series(1, 1000) g`);
  await h.sql(`UPDATE mixed SET day = '1800-01-01' WHERE id = 500`);
  const s = sourceConfig(h, [cursorTable('mixed', { chunkRows: 100 })]);
  const table = `src.${h.sourceSchema}.mixed`;
  const r = await runTable(h.deps(s), tableOf(s, 'mixed'));
  expect(r.status).toBe('ok');
  expect((await listQuarantinedRows(h.meta, { table })).map((x) => x.reason)).toEqual([
    `${table}: row (id) = (500): column day (date) holds a value outside the range of Date32: 1800-01-01`,
  ]);
  await h.sql(`INSERT INTO mixed VALUES (1001, '2025-01-01', 1001)`);
  await h.sql(`UPDATE mixed SET amount = amount + 1, updated_at = now() WHERE id = 10`);
  expect((await runTable(h.deps(s), tableOf(s, 'mixed'))).status).toBe('ok');
  const [n] = await h.chRows<{ n: string; amount: string }>(`SELECT toString(count()) AS n, toString(sum(amount)) AS amount FROM ${h.database}.biz_mixed`);
  const [src] = await h.sql(`SELECT count(*)::text AS n, sum(amount)::text AS amount FROM mixed WHERE id <> 500`);
  expect(n?.n).toBe(src?.n);
  expect(Number(n?.amount)).toBe(Number(src?.amount));
});

test('PRIMARY KEY (b, a): the key keeps its declared order; later runs are not quarantined', async () => {
  await h.sql(`CREATE TABLE pairs (a int NOT NULL, b text NOT NULL, amount int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (b, a))`);
  await h.sql(`INSERT INTO pairs SELECT g, 'k' || (g % 7), g FROM generate_series(1, 100) g`);
  const s = sourceConfig(h, [cursorTable('pairs')]);
  expect((await runTable(h.deps(s), tableOf(s, 'pairs'))).status).toBe('ok');
  const [key] = await h.chRows<{ sorting_key: string }>(`SELECT sorting_key FROM system.tables WHERE database = '${h.database}' AND name = 'biz_pairs_v1'`);
  expect(key?.sorting_key).toBe('project_id, b, a');
  await h.sql(`UPDATE pairs SET amount = amount + 1, updated_at = now() WHERE a = 3`);
  const second = await runTable(h.deps(s), tableOf(s, 'pairs'));
  expect(second.status).toBe('ok');
  const c = await countAndSum(h, 'pairs', 'biz_pairs', 'a', 'amount');
  expect(c.target).toEqual(c.source);
});

test('a table without a PRIMARY KEY synced through primaryKey (the docs route), key columns out of column order', async () => {
  await h.sql(`CREATE TABLE roles (name text NOT NULL, role_id int NOT NULL, tenant int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`CREATE UNIQUE INDEX ON roles (tenant, role_id)`);
  await h.sql(`INSERT INTO roles SELECT 'r' || g, g, g % 3 FROM generate_series(1, 30) g`);
  const s = sourceConfig(h, [{ name: 'roles', target: 'biz_roles', mode: 'full', primaryKey: ['tenant', 'role_id'] }]);
  expect((await runTable(h.deps(s), tableOf(s, 'roles'))).status).toBe('ok');
  await h.sql(`DELETE FROM roles WHERE role_id = 4`);
  const second = await runTable(h.deps(s), tableOf(s, 'roles'));
  expect(second.status).toBe('ok');
  const c = await countAndSum(h, 'roles', 'biz_roles', 'role_id', 'tenant');
  expect(c.target).toEqual(c.source);
});

test('defaults: exclude and types apply to every table that has the columns', async () => {
  await h.sql(`CREATE TABLE d_one (id int PRIMARY KEY, notes text, amount numeric, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`CREATE TABLE d_two (id int PRIMARY KEY, amount numeric, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO d_one VALUES (1, 'secret', 1.5)`);
  await h.sql(`INSERT INTO d_two VALUES (1, 2.5)`);
  const s = sourceConfig(
    h,
    [
      { name: 'd_one', target: 'biz_d_one' },
      { name: 'd_two', target: 'biz_d_two' },
    ],
    {
      defaults: { mode: 'cursor', cursor: { column: 'updated_at', overlap: 0 }, reconcile: false, exclude: ['notes'], types: { amount: 'Decimal(20, 2)' } },
    },
  );
  expect((await runTable(h.deps(s), tableOf(s, 'd_one'))).status).toBe('ok');
  expect((await runTable(h.deps(s), tableOf(s, 'd_two'))).status).toBe('ok');
  const cols = await h.chRows<{ table: string; name: string; type: string }>(
    `SELECT table, name, type FROM system.columns WHERE database = '${h.database}' AND table IN ('biz_d_one_v1', 'biz_d_two_v1') AND name IN ('notes', 'amount') ORDER BY table, name`,
  );
  expect(cols).toEqual([
    { table: 'biz_d_one_v1', name: 'amount', type: 'Nullable(Decimal(20, 2))' },
    { table: 'biz_d_two_v1', name: 'amount', type: 'Nullable(Decimal(20, 2))' },
  ]);
});

test('true lag: the status lag is the watermark age, so a table that stops syncing shows it growing at once; quarantined rows are in the status', async () => {
  await h.sql(`CREATE TABLE laggy (id int PRIMARY KEY, v numeric, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO laggy VALUES (1, 1), (2, 1e40)`);
  const s = sourceConfig(h, [cursorTable('laggy')]);
  const table = `src.${h.sourceSchema}.laggy`;
  expect((await runTable(h.deps(s), tableOf(s, 'laggy'))).status).toBe('ok');
  const first = (await getSyncStatus(h.meta)).tables.find((t) => t.table === table);
  expect(first?.quarantinedRows).toBe(1);
  expect(first?.lagSeconds).toBeLessThan(5);
  // The source table disappears: every run fails, nothing advances; the lag grows without any run succeeding.
  await h.sql(`ALTER TABLE laggy RENAME TO laggy_gone`);
  const failed = await runTable(h.deps(s), tableOf(s, 'laggy'));
  expect(failed.status).toBe('failed');
  await new Promise((r) => setTimeout(r, 1_500));
  const later = (await getSyncStatus(h.meta)).tables.find((t) => t.table === table);
  expect(later?.state).toBe('error');
  expect(later?.lagSeconds).toBeGreaterThan((first?.lagSeconds ?? 0) + 1);
  // Said once: the stored error does not repeat itself.
  expect(later?.lastError).toMatch(/does not exist/);
  expect(later?.lastError).toBe(sayOnce(later?.lastError ?? ''));
  await h.sql(`ALTER TABLE laggy_gone RENAME TO laggy`);
});

test('messages said once; backoff doubles per failure up to 5 minutes', () => {
  expect(sayOnce('src.public.t: source table public.t does not exist: source table public.t does not exist')).toBe(
    'src.public.t: source table public.t does not exist',
  );
  expect(sayOnce('X: X')).toBe('X');
  expect(sayOnce('a: b: c')).toBe('a: b: c');
  expect([1, 2, 3, 4, 10].map((f) => backoffMs(30_000, f))).toEqual([0, 60_000, 120_000, 240_000, 300_000]);
});
