/**
 * Content reconciliation (issue 15) against the real Postgres and the
 * embedded ClickHouse: divergence a key comparison cannot see — an update
 * stamped further back than the overlap, a delete and re-insert with the old
 * stamp — is found by the range hashes and repaired within one
 * reconciliation; the event loop stays responsive during a large one.
 */
import { getSyncStatus } from '../src/status/status';
import { runTable } from '../src/sync/table-sync';
import { countAndSum, loopDelayDuring, sourceConfig, startHarness, tableOf, type Harness } from './support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('content');
});

afterAll(async () => {
  await h?.close();
});

const table = (name: string) => ({ name, target: `biz_${name}`, mode: 'cursor', cursor: { column: 'updated_at', overlap: '2s' }, reconcile: { every: '1h' } });

test('a backdated update and an old-stamp re-insert are found by content and repaired in one reconciliation; status and result say so', async () => {
  await h.sql(`CREATE TABLE orders (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, note text, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO orders SELECT g, g * 1.25, 'n' || g, now() - interval '1 hour' FROM generate_series(1, 5000) g`);
  const s = sourceConfig(h, [table('orders')]);
  const cfg = tableOf(s, 'orders');
  expect((await runTable(h.deps(s), cfg, { reconcile: 'skip' })).status).toBe('ok');

  // Backdated: the stamp is an hour old, far behind the cursor and its 2 s overlap.
  await h.sql(`UPDATE orders SET amount = amount + 17771, updated_at = now() - interval '1 hour' WHERE id = 42`);
  // Delete and re-insert with the old stamp and other values.
  await h.sql(`DELETE FROM orders WHERE id = 77`);
  await h.sql(`INSERT INTO orders VALUES (77, 201201, 'again', now() - interval '1 hour')`);
  const inc = await runTable(h.deps(s), cfg, { reconcile: 'skip' });
  expect(inc.status).toBe('ok');
  const before = await countAndSum(h, 'orders', 'biz_orders', 'id', 'amount');
  expect(before.target.amount).not.toBe(before.source.amount);

  const rec = await runTable(h.deps(s), cfg, { reconcile: 'force' });
  expect(rec.status).toBe('ok');
  expect(rec.reconcile?.missing).toBe(0);
  expect(rec.reconcile?.content?.changed).toBe(2);
  expect(rec.reconcile?.content?.repaired).toBe(2);
  expect(rec.reconcile?.content?.rowsCompared).toBe(5000);
  expect(rec.reconcile?.ok).toBe(true);
  const after = await countAndSum(h, 'orders', 'biz_orders', 'id', 'amount');
  expect(after.target).toEqual(after.source);
  expect(await h.chRows(`SELECT note FROM ${h.database}.biz_orders WHERE id = 77`)).toEqual([{ note: 'again' }]);

  const status = (await getSyncStatus(h.meta)).tables.find((t) => t.table === cfg.key);
  expect(status?.content).toMatchObject({ changed: 2, repaired: 2, remaining: 0, changedTotal: 2, repairedTotal: 2 });

  // A second reconciliation finds nothing.
  const again = await runTable(h.deps(s), cfg, { reconcile: 'force' });
  expect(again.reconcile?.content?.changed).toBe(0);
  expect(again.reconcile?.content?.differingRanges).toBe(0);
});

test('a large reconciliation keeps the event loop responsive (p99 delay < 100 ms over the idle baseline)', async () => {
  await h.sql(`CREATE TABLE wide (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO wide SELECT g, g, now() - interval '1 hour' FROM generate_series(1, 200000) g`);
  const s = sourceConfig(h, [{ ...table('wide'), chunkRows: 100000 }]);
  const cfg = tableOf(s, 'wide');
  expect((await runTable(h.deps(s), cfg, { reconcile: 'skip' })).status).toBe('ok');
  await h.sql(`UPDATE wide SET amount = amount + 1, updated_at = now() - interval '1 hour' WHERE id % 1000 = 0`);
  // The bound is on what the reconciliation adds to the machine's own scheduling delay (harness.ts).
  const { result: rec, p99, max, baseline } = await loopDelayDuring(() => runTable(h.deps(s), cfg, { reconcile: 'force' }));
  expect(rec.reconcile?.content?.changed).toBe(200);
  process.stderr.write(
    `reconciliation of 200,000 keys: ${rec.reconcile?.content?.seconds.toFixed(2)} s content, event-loop delay p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms; idle baseline p99 ${baseline.toFixed(1)} ms; limit ${(100 + baseline).toFixed(1)} ms (ratio ${(p99 / (100 + baseline)).toFixed(2)})\n`,
  );
  expect(p99).toBeLessThan(100 + baseline);
  const c = await countAndSum(h, 'wide', 'biz_wide', 'id', 'amount');
  expect(c.target).toEqual(c.source);
}, 120_000);
