/**
 * CDC mode through logical replication (pgoutput) on the real Postgres
 * (wal_level=logical: scripts/services/postgres-logical.sh). Each test ends
 * with the count-and-sum reconciliation.
 */
import { parseEtlConfig } from '../src/config/load';
import { getSourceState, getTableState } from '../src/checkpoint/store';
import { EtlEngine } from '../src/engine';
import { lsnToDecimal } from '../src/source/lsn';
import { countAndSum, postgresUrl, silent, startHarness, uniqueName, type Harness } from './support/harness';

let h: Harness;
let engine: EtlEngine;
const slot = uniqueName('tm_slot').toLowerCase().slice(0, 40);
const publication = uniqueName('tm_pub').toLowerCase().slice(0, 40);

/** Set to make the next landed CDC block "crash" the stream right after ClickHouse confirmed it. */
let crashAfterNextCdcLand = false;
let crashes = 0;

function makeEngine(): EtlEngine {
  const config = parseEtlConfig({
    sources: [
      {
        name: 'cdcsrc',
        url: postgresUrl,
        schema: h.sourceSchema,
        cdc: { slot, publication, flushInterval: '50ms' },
        defaults: { mode: 'cdc', reconcile: false },
        tables: [
          { name: 'orders', target: 'biz_cdc_orders' },
          { name: 'docs', target: 'biz_cdc_docs' },
        ],
      },
    ],
  });
  const hooks = {
    afterLand: (info: { kind: string }) => {
      if (info.kind === 'cdc' && crashAfterNextCdcLand) {
        crashAfterNextCdcLand = false;
        crashes++;
        throw new Error('simulated crash between the insert and the checkpoint');
      }
    },
  };
  return new EtlEngine({ config, clickhouse: h.ch, meta: h.meta, logger: silent, cdcHeartbeatMs: 250, onProgress: () => undefined, hooks });
}

async function inSync(table: string, view: string, key: string, amount: string): Promise<void> {
  const r = await countAndSum(h, table, view, key, amount);
  expect(r.target).toEqual(r.source);
}

beforeAll(async () => {
  h = await startHarness('cdc');
  const [{ wal_level }] = (await h.sql(`SHOW wal_level`)) as [{ wal_level: string }];
  if (wal_level !== 'logical') throw new Error(`wal_level is ${wal_level}; run scripts/services/postgres-logical.sh`);
  await h.sql(
    `CREATE TABLE orders (order_id bigint PRIMARY KEY, status text NOT NULL, amount numeric(14,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  );
  await h.sql(`CREATE TABLE docs (doc_id int PRIMARY KEY, title text NOT NULL, body text, meta jsonb, size int NOT NULL DEFAULT 0)`);
  await h.sql(`INSERT INTO orders SELECT g, 'paid', g * 2.5, now() FROM generate_series(1, 2000) g`);
  await h.sql(`INSERT INTO docs VALUES (1, 'small', 'x', '{}', 1)`);
  engine = makeEngine();
});

afterAll(async () => {
  await engine?.stop();
  await h.admin
    .query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [slot])
    .catch(() => undefined);
  await h.sql(`DROP PUBLICATION IF EXISTS ${publication}`).catch(() => undefined);
  await h?.close();
});

test('snapshot, then inserts, updates, deletes, primary-key changes, delete + re-insert and TRUNCATE through the stream, versioned by LSN', async () => {
  const first = await engine.runAll();
  expect(first.map((r) => r.status)).toEqual(['ok', 'ok']);
  await engine.startCdc();
  await inSync('orders', 'biz_cdc_orders', 'order_id', 'amount');

  const [{ before }] = (await h.sql(`SELECT pg_current_wal_lsn()::text AS before`)) as [{ before: string }];
  await h.sql(`INSERT INTO orders SELECT g, 'new', g, now() FROM generate_series(2001, 2100) g`);
  await h.sql(`UPDATE orders SET amount = amount + 1, status = 'refunded' WHERE order_id <= 100`);
  await h.sql(`DELETE FROM orders WHERE order_id BETWEEN 101 AND 150`);
  await h.sql(`UPDATE orders SET order_id = order_id + 100000 WHERE order_id BETWEEN 151 AND 160`);
  // Delete and re-insert a key in one transaction, and in two.
  await h.sql(`BEGIN; DELETE FROM orders WHERE order_id = 200; INSERT INTO orders VALUES (200, 'reborn', 2.22, now()); COMMIT;`);
  await h.sql(`DELETE FROM orders WHERE order_id = 201`);
  await h.sql(`INSERT INTO orders VALUES (201, 'reborn', 3.33, now())`);
  await engine.stream('cdcsrc').waitCaughtUp();
  await inSync('orders', 'biz_cdc_orders', 'order_id', 'amount');

  // Versions come from the WAL: every changed row's _version is a commit LSN after `before`.
  const [v] = await h.chRows<{ v: string }>(
    `SELECT toString(min(_version)) AS v FROM ${h.database}.biz_cdc_orders_v1 WHERE order_id = 1 AND status = 'refunded'`,
  );
  expect(BigInt(v?.v as string)).toBeGreaterThan(BigInt(lsnToDecimal(before)));
  const moved = await h.chRows<{ order_id: string }>(`SELECT order_id FROM ${h.database}.biz_cdc_orders WHERE order_id IN (151, 100151) ORDER BY order_id`);
  expect(moved.map((m) => m.order_id)).toEqual(['100151']);
  const reborn = await h.chRows<{ order_id: string; status: string }>(
    `SELECT order_id, status FROM ${h.database}.biz_cdc_orders WHERE order_id IN (200, 201) ORDER BY order_id`,
  );
  expect(reborn).toEqual([
    { order_id: '200', status: 'reborn' },
    { order_id: '201', status: 'reborn' },
  ]);

  // A transaction that commits late still arrives (the stream orders by commit).
  const late = await h.source.connect();
  await late.query('BEGIN');
  await late.query(`INSERT INTO orders VALUES (5000, 'late', 50, now() - interval '1 hour')`);
  await h.sql(`INSERT INTO orders VALUES (5001, 'early', 51, now())`);
  await late.query('COMMIT');
  late.release();
  await engine.stream('cdcsrc').waitCaughtUp();
  await inSync('orders', 'biz_cdc_orders', 'order_id', 'amount');

  const state = await getSourceState(h.meta, 'cdcsrc');
  expect(state?.slotStatus).toBe('active');
  expect(state?.confirmedLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
});

test('TOAST-sized values: an update that leaves a 3 MB column untouched keeps it whole', async () => {
  await h.sql(`INSERT INTO docs VALUES (2, 'big', repeat('0123456789abcdef', 200000), jsonb_build_object('blob', repeat('x', 500000), 'n', 1), 3200000)`);
  await engine.stream('cdcsrc').waitCaughtUp();
  // pgoutput sends "unchanged TOAST" (no value) for body and meta here; the row is refetched.
  await h.sql(`UPDATE docs SET title = 'big, retitled' WHERE doc_id = 2`);
  await engine.stream('cdcsrc').waitCaughtUp();
  const [src] = await h.sql(`SELECT md5(body) AS body, md5(meta::text) AS meta, title FROM docs WHERE doc_id = 2`);
  const [dst] = await h.chRows(`SELECT lower(hex(MD5(body))) AS body, lower(hex(MD5(meta))) AS meta, title FROM ${h.database}.biz_cdc_docs WHERE doc_id = 2`);
  expect(dst).toEqual(src);
  await inSync('docs', 'biz_cdc_docs', 'doc_id', 'size');
});

test('TRUNCATE tombstones every landed key', async () => {
  await h.sql(`INSERT INTO docs SELECT g, 't' || g, 'b', '{}', g FROM generate_series(10, 30) g`);
  await engine.stream('cdcsrc').waitCaughtUp();
  await h.sql(`BEGIN; TRUNCATE docs; INSERT INTO docs VALUES (99, 'after truncate', 'b', '{}', 9); COMMIT;`);
  await engine.stream('cdcsrc').waitCaughtUp();
  const rows = await h.chRows<{ doc_id: number }>(`SELECT doc_id FROM ${h.database}.biz_cdc_docs ORDER BY doc_id`);
  expect(rows.map((r) => r.doc_id)).toEqual([99]);
  await inSync('docs', 'biz_cdc_docs', 'doc_id', 'size');
});

test('trap: the stream dies after an insert, before its checkpoint: it replays from the checkpoint and nothing is lost or doubled', async () => {
  const before = (await getSourceState(h.meta, 'cdcsrc'))?.confirmedLsn;
  crashAfterNextCdcLand = true;
  await h.sql(`UPDATE orders SET amount = amount + 10 WHERE order_id BETWEEN 300 AND 399`);
  await h.sql(`DELETE FROM orders WHERE order_id BETWEEN 400 AND 409`);
  await engine.stream('cdcsrc').waitCaughtUp();
  expect(crashes).toBe(1);
  expect(BigInt(lsnToDecimal((await getSourceState(h.meta, 'cdcsrc'))?.confirmedLsn as string))).toBeGreaterThan(BigInt(lsnToDecimal(before as string)));
  await inSync('orders', 'biz_cdc_orders', 'order_id', 'amount');
  const [dups] = await h.chRows<{ n: string }>(
    `SELECT toString(count()) AS n FROM (SELECT order_id FROM ${h.database}.biz_cdc_orders GROUP BY order_id HAVING count() > 1)`,
  );
  expect(dups?.n).toBe('0');
});

test('slot lag is watched and reported', async () => {
  await new Promise((r) => setTimeout(r, 600));
  const info = await engine.stream('cdcsrc').slotInfo();
  expect(info).toMatchObject({ exists: true, active: true });
  const status = await engine.status();
  const src = status.sources.find((s) => s.source === 'cdcsrc');
  expect(src?.slotLagBytes).not.toBeNull();
  expect(src?.slotStatus).toBe('active');
  const orders = status.tables.find((t) => t.name === 'orders');
  expect(orders).toMatchObject({ mode: 'cdc', phase: 'incremental', state: 'ok', stalled: false });
  expect(orders?.lagSeconds).not.toBeNull();
});

test('a lost slot is detected; the tables are snapshotted again and reconciled, deletes made meanwhile included', async () => {
  await engine.stop();
  // The slot disappears (dropped by an operator, or invalidated by max_slot_wal_keep_size) while changes go on.
  await h.admin.query(`SELECT pg_drop_replication_slot($1)`, [slot]);
  await h.sql(`DELETE FROM orders WHERE order_id BETWEEN 1000 AND 1099`);
  await h.sql(`INSERT INTO orders SELECT g, 'gap', 1, now() FROM generate_series(7000, 7049) g`);
  await h.sql(`UPDATE orders SET amount = 0.01 WHERE order_id BETWEEN 1100 AND 1109`);

  engine = makeEngine();
  await engine.startCdc();
  const source = await getSourceState(h.meta, 'cdcsrc');
  expect(source?.slotStatus).toBe('active');
  expect(source?.slotLostAt).not.toBeNull();
  const t = await getTableState(h.meta, `cdcsrc.${h.sourceSchema}.orders`);
  expect(t?.phase).toBe('pending');
  expect(t?.resnapshotReason).toMatch(/replication slot .* lost/);

  const results = await engine.runAll();
  expect(results.every((r) => r.status === 'ok')).toBe(true);
  const orders = results.find((r) => r.table.endsWith('.orders'));
  expect(orders?.reconcile?.extra).toBe(100);
  await h.sql(`INSERT INTO orders VALUES (9000, 'after', 9, now())`);
  await engine.stream('cdcsrc').waitCaughtUp();
  await inSync('orders', 'biz_cdc_orders', 'order_id', 'amount');
});

test('ADD COLUMN on the source appears in ClickHouse while streaming', async () => {
  await h.sql(`ALTER TABLE orders ADD COLUMN channel text`);
  await h.sql(`INSERT INTO orders (order_id, status, amount, channel) VALUES (9100, 'with channel', 1.5, 'wechat')`);
  await engine.stream('cdcsrc').waitCaughtUp();
  const rows = await h.chRows<{ channel: string | null }>(`SELECT channel FROM ${h.database}.biz_cdc_orders WHERE order_id = 9100`);
  expect(rows).toEqual([{ channel: 'wechat' }]);
  await inSync('orders', 'biz_cdc_orders', 'order_id', 'amount');
});
