/**
 * Cursor mode against the real Postgres and chDB over HTTP, one test per
 * trap. Every test ends with the count-and-sum reconciliation: the source
 * table and the reader view agree exactly.
 */
import { getTableState } from '../src/checkpoint/store';
import { parseEtlConfig } from '../src/config/load';
import { EtlEngine } from '../src/engine';
import { runTable } from '../src/sync/table-sync';
import { countAndSum, postgresUrl, silent, sourceConfig, startHarness, tableOf, type Harness } from './support/harness';

let h: Harness;

const ORDERS = (name: string) => `
  CREATE TABLE ${name} (
    order_id    bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    status      text NOT NULL,
    amount      numeric(14,2) NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX ON ${name} (updated_at, order_id);`;

async function fill(table: string, from: number, to: number, at = 'now()'): Promise<void> {
  await h.sql(
    `INSERT INTO ${table} (order_id, customer_id, status, amount, updated_at)
     SELECT g, g % 97, (ARRAY['pending','paid','completed'])[1 + g % 3], (g * 1.25)::numeric(14,2), ${at}
       FROM generate_series($1::int, $2::int) g`,
    [from, to],
  );
}

async function expectInSync(table: string): Promise<void> {
  const r = await countAndSum(h, table, `biz_${table}`, 'order_id', 'amount');
  expect(r.target).toEqual(r.source);
}

function src(table: string, extra: Record<string, unknown> = {}) {
  return sourceConfig(h, [{ name: table, target: `biz_${table}`, mode: 'cursor', cursor: { column: 'updated_at', overlap: 0 }, reconcile: false, ...extra }]);
}

beforeAll(async () => {
  h = await startHarness('cursor');
});

afterAll(async () => {
  await h?.close();
});

test('initial snapshot in checkpointed chunks, then incremental changes; progress reports rows/s and ETA', async () => {
  await h.sql(ORDERS('o_basic'));
  await fill('o_basic', 1, 5000);
  const s = src('o_basic', { chunkRows: 1000, parallelism: 2 });
  const first = await runTable(h.deps(s), tableOf(s, 'o_basic'));
  expect(first.status).toBe('ok');
  expect(first.snapshot).toEqual({ rows: 5000, chunks: 5, finished: true });
  await expectInSync('o_basic');
  const snap = h.progress.filter((p) => p.table.endsWith('o_basic') && p.phase === 'snapshot');
  const last = snap[snap.length - 1];
  expect(last).toMatchObject({ done: true, rows: 5000, chunksDone: 5, chunksTotal: 5 });
  expect(last?.rowsPerSecond).toBeGreaterThan(0);

  await h.sql(`UPDATE o_basic SET amount = amount + 1, updated_at = now() WHERE order_id <= 100`);
  await fill('o_basic', 5001, 5100);
  const second = await runTable(h.deps(s), tableOf(s, 'o_basic'));
  expect(second.status).toBe('ok');
  expect(second.incremental?.rows).toBe(200);
  await expectInSync('o_basic');
  // Re-landed rows collapse: the view has exactly one row per key.
  const [dups] = await h.chRows<{ n: string }>(
    `SELECT toString(count()) AS n FROM (SELECT order_id FROM ${h.database}.biz_o_basic GROUP BY order_id HAVING count() > 1)`,
  );
  expect(dups?.n).toBe('0');
});

test('trap: a transaction that commits late with an earlier updated_at is not skipped', async () => {
  await h.sql(ORDERS('o_late'));
  await fill('o_late', 1, 100);
  const s = src('o_late');
  expect((await runTable(h.deps(s), tableOf(s, 'o_late'))).status).toBe('ok');

  // A writer opens a transaction: its now() — the updated_at it stamps — is taken here.
  const late = await h.source.connect();
  try {
    await late.query('BEGIN');
    await late.query(`INSERT INTO o_late (order_id, customer_id, status, amount, updated_at) VALUES (1001, 1, 'paid', 10.01, now())`);
    await new Promise((r) => setTimeout(r, 50));
    // Other writers commit later-stamped rows while it is open.
    await fill('o_late', 101, 200);
    const during = await runTable(h.deps(s), tableOf(s, 'o_late'));
    expect(during.status).toBe('ok');
    // The cursor stopped below the open transaction's start...
    const state = await getTableState(h.meta, tableOf(s, 'o_late').key);
    const [{ before }] = (await late.query(`SELECT $1::timestamptz <= now() AS before`, [state?.cursorValue])).rows as [{ before: boolean }];
    expect(before).toBe(true);
    await late.query('COMMIT');
  } finally {
    late.release();
  }
  // ...so the late row (stamped before the rows committed meanwhile) is read by the next run.
  expect((await runTable(h.deps(s), tableOf(s, 'o_late'))).status).toBe('ok');
  const rows = await h.chRows<{ order_id: string }>(`SELECT order_id FROM ${h.database}.biz_o_late WHERE order_id = 1001`);
  expect(rows).toHaveLength(1);
  await expectInSync('o_late');
});

test('trap: a row committed with a timestamp far behind the cursor is found by reconciliation', async () => {
  await h.sql(ORDERS('o_backdated'));
  await fill('o_backdated', 1, 50);
  const s = src('o_backdated');
  await runTable(h.deps(s), tableOf(s, 'o_backdated'));
  // An application clock an hour behind: no horizon or overlap can see this through the cursor.
  await fill('o_backdated', 51, 51, `now() - interval '1 hour'`);
  await runTable(h.deps(s), tableOf(s, 'o_backdated'));
  expect(await h.chRows(`SELECT 1 FROM ${h.database}.biz_o_backdated WHERE order_id = 51`)).toHaveLength(0);
  const r = await runTable(h.deps(s), tableOf(s, 'o_backdated'), { reconcile: 'force' });
  expect(r.reconcile).toMatchObject({ missing: 1, extra: 0, repaired: 1, ok: true });
  await expectInSync('o_backdated');
});

test('trap: many rows sharing one timestamp across page boundaries', async () => {
  await h.sql(ORDERS('o_ties'));
  await fill('o_ties', 1, 10);
  const s = src('o_ties', { pageRows: 10 });
  await runTable(h.deps(s), tableOf(s, 'o_ties'));
  // 95 rows with one identical updated_at (one statement, one now()), keys interleaved with others.
  await fill('o_ties', 100, 194);
  await h.sql(`UPDATE o_ties SET status = 'tie', updated_at = (SELECT max(updated_at) FROM o_ties) WHERE order_id BETWEEN 2 AND 6`);
  const r = await runTable(h.deps(s), tableOf(s, 'o_ties'));
  expect(r.status).toBe('ok');
  expect(r.incremental?.rows).toBe(100);
  const [ties] = await h.chRows<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.database}.biz_o_ties WHERE status = 'tie'`);
  expect(ties?.n).toBe('5');
  await expectInSync('o_ties');
});

test('trap: microsecond-distinct timestamps are kept exactly, in the cursor and in ClickHouse', async () => {
  await h.sql(ORDERS('o_micro'));
  const s = src('o_micro', { pageRows: 10, reconcile: { every: '1h' } });
  await runTable(h.deps(s), tableOf(s, 'o_micro'));
  await new Promise((r) => setTimeout(r, 30));
  // 25 rows one microsecond apart, just below now (so below the next horizon): pages of 10 cut between them.
  await h.sql(
    `INSERT INTO o_micro (order_id, customer_id, status, amount, updated_at)
     SELECT g, 1, 'paid', g, (date_trunc('milliseconds', clock_timestamp()) - interval '5 milliseconds') + g * interval '1 microsecond'
       FROM generate_series(1, 25) g`,
  );
  const r = await runTable(h.deps(s), tableOf(s, 'o_micro'), { reconcile: 'skip' });
  expect(r.incremental?.rows).toBe(25);
  const source = await h.sql(
    `SELECT order_id::text AS id, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS ts FROM o_micro ORDER BY order_id`,
  );
  const target = await h.chRows<{ id: string; ts: string }>(
    `SELECT toString(order_id) AS id, toString(updated_at) AS ts FROM ${h.database}.biz_o_micro ORDER BY order_id`,
  );
  expect(target).toEqual(source);
  expect(new Set(target.map((t) => t.ts)).size).toBe(25);

  // The saved position keeps all six decimals: a row one microsecond after it is read, one a
  // microsecond before it is not (a millisecond-truncated cursor would re-read or skip around it).
  const state = await getTableState(h.meta, tableOf(s, 'o_micro').key);
  // Postgres prints microseconds without trailing zeros (.59004 is 590040 µs): any 1-6 digits, never a rounded Date.
  expect(state?.cursorValue).toMatch(/\.\d{1,6}\+00$/);
  await h.sql(
    `INSERT INTO o_micro (order_id, customer_id, status, amount, updated_at) VALUES
       (101, 1, 'after', 1.01, $1::timestamptz + interval '1 microsecond'),
       (102, 1, 'before', 1.02, $1::timestamptz - interval '1 microsecond')`,
    [state?.cursorValue],
  );
  await runTable(h.deps(s), tableOf(s, 'o_micro'), { reconcile: 'skip' });
  const seen = await h.chRows<{ order_id: string }>(`SELECT order_id FROM ${h.database}.biz_o_micro WHERE order_id > 100 ORDER BY order_id`);
  expect(seen.map((x) => x.order_id)).toEqual(['101']);
  // The row stamped behind the cursor is a reconciliation find.
  const rec = await runTable(h.deps(s), tableOf(s, 'o_micro'), { reconcile: 'force' });
  expect(rec.reconcile).toMatchObject({ missing: 1, repaired: 1 });
  await expectInSync('o_micro');
});

test('trap: hard delete (reconciliation tombstones it)', async () => {
  await h.sql(ORDERS('o_delete'));
  await fill('o_delete', 1, 300);
  const s = src('o_delete', { reconcile: { every: '1h' } });
  await runTable(h.deps(s), tableOf(s, 'o_delete'));
  await h.sql(`DELETE FROM o_delete WHERE order_id % 10 = 0`);
  const r = await runTable(h.deps(s), tableOf(s, 'o_delete'), { reconcile: 'force' });
  expect(r.reconcile).toMatchObject({ sourceRows: 270, targetRows: 270, missing: 0, extra: 30, repaired: 30, ok: true });
  await expectInSync('o_delete');
  const [tomb] = await h.chRows<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.database}.biz_o_delete_v1 WHERE is_deleted = 1`);
  expect(tomb?.n).toBe('30');
  const state = await getTableState(h.meta, tableOf(s, 'o_delete').key);
  expect(state).toMatchObject({ reconSourceRows: 270, reconTargetRows: 270, reconExtra: 30, reconOk: true });
});

test('trap: delete and re-insert of a key', async () => {
  await h.sql(ORDERS('o_reinsert'));
  await fill('o_reinsert', 1, 20);
  const s = src('o_reinsert', { reconcile: { every: '1h' } });
  await runTable(h.deps(s), tableOf(s, 'o_reinsert'));
  await h.sql(`DELETE FROM o_reinsert WHERE order_id IN (5, 6)`);
  await runTable(h.deps(s), tableOf(s, 'o_reinsert'), { reconcile: 'force' });
  expect(await h.chRows(`SELECT 1 FROM ${h.database}.biz_o_reinsert WHERE order_id IN (5, 6)`)).toHaveLength(0);
  // Key 5 comes back with a fresh timestamp (cursor), key 6 with its old one (only reconciliation sees it).
  await h.sql(`INSERT INTO o_reinsert (order_id, customer_id, status, amount) VALUES (5, 1, 'again', 555.55)`);
  await h.sql(`INSERT INTO o_reinsert (order_id, customer_id, status, amount, updated_at) VALUES (6, 1, 'again', 666.66, now() - interval '1 day')`);
  await runTable(h.deps(s), tableOf(s, 'o_reinsert'), { reconcile: 'skip' });
  expect(await h.chRows(`SELECT order_id FROM ${h.database}.biz_o_reinsert WHERE order_id IN (5, 6)`)).toEqual([{ order_id: '5' }]);
  const r = await runTable(h.deps(s), tableOf(s, 'o_reinsert'), { reconcile: 'force' });
  expect(r.reconcile).toMatchObject({ missing: 1, extra: 0, ok: true });
  const back = await h.chRows<{ order_id: string; amount: number }>(
    `SELECT order_id, amount FROM ${h.database}.biz_o_reinsert WHERE order_id IN (5, 6) ORDER BY order_id`,
  );
  expect(back).toEqual([
    { order_id: '5', amount: 555.55 },
    { order_id: '6', amount: 666.66 },
  ]);
  await expectInSync('o_reinsert');
});

test('trap: primary-key update', async () => {
  await h.sql(ORDERS('o_pkupdate'));
  await fill('o_pkupdate', 1, 20);
  const s = src('o_pkupdate', { reconcile: { every: '1h' } });
  await runTable(h.deps(s), tableOf(s, 'o_pkupdate'));
  await h.sql(`UPDATE o_pkupdate SET order_id = order_id + 1000, updated_at = now() WHERE order_id IN (3, 4)`);
  const r = await runTable(h.deps(s), tableOf(s, 'o_pkupdate'), { reconcile: 'force' });
  expect(r.incremental?.rows).toBe(2);
  expect(r.reconcile).toMatchObject({ extra: 2, missing: 0, ok: true });
  const keys = await h.chRows<{ order_id: string }>(`SELECT order_id FROM ${h.database}.biz_o_pkupdate WHERE order_id IN (3, 4, 1003, 1004) ORDER BY order_id`);
  expect(keys.map((k) => k.order_id)).toEqual(['1003', '1004']);
  await expectInSync('o_pkupdate');
});

test('full mode (no cursor column) and several sources in one engine', async () => {
  await h.sql(`CREATE TABLE f_roles (role_id int PRIMARY KEY, name text NOT NULL, weight numeric(6,2) NOT NULL)`);
  await h.sql(`INSERT INTO f_roles SELECT g, 'role ' || g, g / 4.0 FROM generate_series(1, 40) g`);
  await h.sql(ORDERS('o_second'));
  await fill('o_second', 1, 30);
  const config = parseEtlConfig({
    sources: [
      { name: 'one', url: postgresUrl, schema: h.sourceSchema, tables: [{ name: 'f_roles', target: 'biz_f_roles', mode: 'full', chunkRows: 100 }] },
      {
        name: 'two',
        url: postgresUrl,
        schema: h.sourceSchema,
        tables: [{ name: 'o_second', target: 'biz_o_second', cursor: { column: 'updated_at', overlap: 0 }, reconcile: false }],
      },
    ],
  });
  const engine = new EtlEngine({ config, clickhouse: h.ch, meta: h.meta, logger: silent, onProgress: () => undefined });
  try {
    expect((await engine.runAll()).map((r) => `${r.table}:${r.status}`).sort()).toEqual([
      `one.${h.sourceSchema}.f_roles:ok`,
      `two.${h.sourceSchema}.o_second:ok`,
    ]);
    // Without a cursor column, updates and deletes are followed by re-reading the table every run.
    await h.sql(`UPDATE f_roles SET weight = weight * 2, name = 'renamed' WHERE role_id <= 10`);
    await h.sql(`DELETE FROM f_roles WHERE role_id > 35`);
    await h.sql(`INSERT INTO f_roles VALUES (100, 'new', 1.25)`);
    const r = await engine.runTable('f_roles');
    expect(r.status).toBe('ok');
    expect(r.snapshot?.rows).toBe(36);
    expect(r.reconcile).toMatchObject({ extra: 5, missing: 0, ok: true });
    const cs = await countAndSum(h, 'f_roles', 'biz_f_roles', 'role_id', 'weight');
    expect(cs.target).toEqual(cs.source);
    await expectInSync('o_second');
  } finally {
    await engine.stop();
  }
});

test('an unreachable source fails its tables with the reason; other sources go on', async () => {
  await h.sql(ORDERS('o_reachable'));
  await fill('o_reachable', 1, 10);
  const config = parseEtlConfig({
    sources: [
      { name: 'down', url: 'postgres://postgres@127.0.0.1:1/postgres', schema: 'public', tables: [{ name: 'nowhere', mode: 'full' }] },
      {
        name: 'up',
        url: postgresUrl,
        schema: h.sourceSchema,
        tables: [{ name: 'o_reachable', target: 'biz_o_reachable', cursor: { column: 'updated_at', overlap: 0 }, reconcile: false }],
      },
    ],
  });
  const engine = new EtlEngine({ config, clickhouse: h.ch, meta: h.meta, logger: silent, onProgress: () => undefined });
  try {
    const results = await engine.runAll();
    const down = results.find((r) => r.table === 'down.public.nowhere');
    expect(down?.status).toBe('failed');
    expect(down?.error?.message).toMatch(/unreachable|ECONNREFUSED/);
    expect(results.find((r) => r.table.endsWith('.o_reachable'))?.status).toBe('ok');
    const status = await engine.status();
    expect(status.tables.find((t) => t.table === 'down.public.nowhere')).toMatchObject({ state: 'error', consecutiveFailures: 1 });
    await expectInSync('o_reachable');
  } finally {
    await engine.stop();
  }
});

test('reconciliation on a composite text + uuid + timestamptz key: both engines order keys the same way (bytes, not collation)', async () => {
  await h.sql(`CREATE TABLE o_composite (region text NOT NULL, id uuid NOT NULL, at timestamptz NOT NULL, amount numeric(10,2) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (region, id, at))`);
  await h.sql(
    `INSERT INTO o_composite (region, id, at, amount)
     SELECT (ARRAY['Z', 'a', 'é', 'e', '中文', '😀', 'A b', ''])[1 + g % 8], md5(g::text)::uuid, '2024-01-01'::timestamptz + g * interval '1 microsecond', g
       FROM generate_series(1, 400) g`,
  );
  const s = src('o_composite', { reconcile: { every: '1h' } });
  expect((await runTable(h.deps(s), tableOf(s, 'o_composite'))).status).toBe('ok');
  await h.sql(`DELETE FROM o_composite WHERE amount::int % 7 = 0`);
  const r = await runTable(h.deps(s), tableOf(s, 'o_composite'), { reconcile: 'force' });
  expect(r.reconcile).toMatchObject({ extra: 57, missing: 0, sourceRows: 343, targetRows: 343, ok: true });
  // Nothing else differs: a second reconciliation finds nothing.
  const again = await runTable(h.deps(s), tableOf(s, 'o_composite'), { reconcile: 'force' });
  expect(again.reconcile).toMatchObject({ extra: 0, missing: 0, ok: true });
  const [src2] = await h.sql(`SELECT count(*)::text AS n, sum(amount)::text AS s FROM o_composite`);
  const [dst] = await h.chRows<{ n: string; s: string }>(`SELECT toString(count()) AS n, toString(sum(amount)) AS s FROM ${h.database}.biz_o_composite`);
  expect({ n: dst?.n, s: Number(dst?.s) }).toEqual({ n: (src2 as { n: string }).n, s: Number((src2 as { s: string }).s) });
});
