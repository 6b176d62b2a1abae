/**
 * Exact types, schema evolution and loud failures, against the real
 * Postgres and chDB over HTTP.
 */
import { parseEtlConfig } from '../src/config/load';
import { EtlEngine } from '../src/engine';
import { listQuarantinedRows } from '../src/sync/quarantine';
import { runTable } from '../src/sync/table-sync';
import { countAndSum, postgresUrl, silent, sourceConfig, startHarness, tableOf, type Harness } from './support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('types');
});

afterAll(async () => {
  await h?.close();
});

function cursorTable(name: string, extra: Record<string, unknown> = {}) {
  return { name, target: `biz_${name}`, mode: 'cursor', cursor: { column: 'updated_at', overlap: 0 }, reconcile: false, ...extra };
}

test('exact types: numeric → Decimal, timestamptz → DateTime64(6), jsonb, arrays, uuid, enums, bytea; nullability kept', async () => {
  await h.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
  await h.sql(`CREATE TABLE typed (
    id int PRIMARY KEY,
    i2 smallint NOT NULL, i8 bigint, money_col numeric(14,2) NOT NULL, any_num numeric, f4 real, f8 double precision,
    flag boolean, label text, code char(3), vc varchar(10), uid uuid NOT NULL, doc jsonb, raw json, bin bytea,
    day date, ts timestamp, tstz timestamptz NOT NULL, t time, span interval, ip inet, m mood NOT NULL, m_null mood,
    ints int[], texts text[], nums numeric(6,2)[], stamps timestamptz[],
    updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO typed VALUES
    (1, -32768, 9223372036854775807, 123456789012.34, 12345678901234567890.123456789, 1.5, 'NaN', true, E'tab\\there\\nnewline \\\\ back ''quote'' "dq"', 'ab', 'vc',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": [1, 2.50, null], "a": "x\\"y"}', '{"keep":  "spacing"}', '\\xdeadbeef',
     '2024-02-29', '2024-01-02 03:04:05.000001', '2024-01-02 03:04:05.123456+05:30', '13:14:15.5', '1 day 02:03:04', '10.0.0.1/8', 'happy', NULL,
     ARRAY[1, NULL, 3], ARRAY['a''b', 'back\\slash', E'tab\\t', NULL, 'NULL', ''], ARRAY[1.50, -2.25]::numeric(6,2)[],
     ARRAY['2024-01-01 00:00:00.000001+00', '1999-12-31 23:59:59.999999+00']::timestamptz[], now()),
    (2, 2, NULL, 0.01, NULL, '-Infinity', 'Infinity', NULL, NULL, NULL, NULL,
     '00000000-0000-0000-0000-000000000000', NULL, NULL, NULL, NULL, NULL, '1900-01-01 00:00:00+00', NULL, NULL, NULL, 'sad', 'ok',
     NULL, '{}', NULL, NULL, now())`);
  const s = sourceConfig(h, [cursorTable('typed')]);
  const r = await runTable(h.deps(s), tableOf(s, 'typed'));
  expect(r.status).toBe('ok');

  const types = Object.fromEntries(
    (await h.chRows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = '${h.database}' AND table = 'biz_typed_v1'`)).map(
      (c) => [c.name, c.type],
    ),
  );
  expect(types).toMatchObject({
    project_id: 'LowCardinality(String)',
    id: 'Int32',
    i2: 'Int16',
    i8: 'Nullable(Int64)',
    money_col: 'Decimal(14, 2)',
    any_num: 'Nullable(Decimal(38, 9))',
    f4: 'Nullable(Float32)',
    f8: 'Nullable(Float64)',
    flag: 'Nullable(Bool)',
    label: 'Nullable(String)',
    uid: 'UUID',
    doc: 'Nullable(String)',
    bin: 'Nullable(String)',
    day: 'Nullable(Date32)',
    ts: "Nullable(DateTime64(6, 'UTC'))",
    tstz: "DateTime64(6, 'UTC')",
    m: 'LowCardinality(String)',
    m_null: 'LowCardinality(Nullable(String))',
    ints: 'Array(Nullable(Int32))',
    texts: 'Array(Nullable(String))',
    nums: 'Array(Nullable(Decimal(6, 2)))',
    stamps: "Array(Nullable(DateTime64(6, 'UTC')))",
    _version: 'UInt64',
    is_deleted: 'UInt8',
  });

  const [one] = await h.chRows<Record<string, unknown>>(
    `SELECT toString(i8) AS i8, toString(money_col) AS money_col, toString(any_num) AS any_num, toString(f8) AS f8, flag, label, code, uid, doc, raw, bin,
            toString(day) AS day, toString(ts) AS ts, toString(tstz) AS tstz, t, span, ip, m, m_null, ints, texts, arrayMap(x -> toString(x), nums) AS nums,
            arrayMap(x -> toString(x), stamps) AS stamps
       FROM ${h.database}.biz_typed WHERE id = 1`,
  );
  expect(one).toEqual({
    i8: '9223372036854775807',
    money_col: '123456789012.34',
    any_num: '12345678901234567890.123456789',
    f8: 'nan',
    flag: true,
    label: 'tab\there\nnewline \\ back \'quote\' "dq"',
    code: 'ab ',
    uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    doc: '{"a": "x\\"y", "b": [1, 2.50, null]}',
    raw: '{"keep":  "spacing"}',
    bin: 'deadbeef',
    day: '2024-02-29',
    ts: '2024-01-02 03:04:05.000001',
    tstz: '2024-01-01 21:34:05.123456',
    t: '13:14:15.5',
    span: '1 day 02:03:04',
    ip: '10.0.0.1/8',
    m: 'happy',
    m_null: null,
    ints: [1, null, 3],
    texts: ["a'b", 'back\\slash', 'tab\t', null, 'NULL', ''],
    nums: ['1.5', '-2.25'],
    stamps: ['2024-01-01 00:00:00.000001', '1999-12-31 23:59:59.999999'],
  });
  const [two] = await h.chRows<Record<string, unknown>>(
    `SELECT i8, any_num, toString(f4) AS f4, toString(f8) AS f8, flag, label, code, doc, day, m_null, ints, texts FROM ${h.database}.biz_typed WHERE id = 2`,
  );
  // NULL stays NULL (not 0 or ''); a NULL array lands as [] (ClickHouse has no Nullable(Array)).
  expect(two).toEqual({
    i8: null,
    any_num: null,
    f4: '-inf',
    f8: 'inf',
    flag: null,
    label: null,
    code: null,
    doc: null,
    day: null,
    m_null: 'ok',
    ints: [],
    texts: [],
  });
});

test('trap: numeric overflow quarantines the row (key, column, value), the rest of the table and other tables sync; fixing the value releases it', async () => {
  await h.sql(`CREATE TABLE prices (id int PRIMARY KEY, price numeric NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`CREATE TABLE healthy (id int PRIMARY KEY, price numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO prices VALUES (1, 10.5), (2, 1e30), (3, 7)`);
  await h.sql(`INSERT INTO healthy SELECT g, g FROM generate_series(1, 10) g`);
  const config = parseEtlConfig({
    sources: [{ name: 'src', url: postgresUrl, schema: h.sourceSchema, tables: [cursorTable('prices'), cursorTable('healthy')] }],
  });
  const engine = new EtlEngine({ config, clickhouse: h.ch, meta: h.meta, logger: silent, onProgress: () => undefined });
  const table = `src.${h.sourceSchema}.prices`;
  try {
    const results = await engine.runAll();
    const prices = results.find((x) => x.table.endsWith('.prices'));
    const healthy = results.find((x) => x.table.endsWith('.healthy'));
    expect(prices?.status).toBe('ok');
    expect(prices?.quarantinedRows).toBe(1);
    expect(healthy?.status).toBe('ok');
    const q = await listQuarantinedRows(h.meta, { table });
    expect(q.map((r) => r.key)).toEqual([['2']]);
    expect(q[0]?.reason).toBe(
      `${table}: row (id) = (2): column price (numeric) holds a value that does not fit Decimal(38, 9): 1000000000000000000000000000000`,
    );
    expect(await h.chRows(`SELECT id FROM ${h.database}.biz_prices ORDER BY id`)).toEqual([{ id: 1 }, { id: 3 }]);

    // Lost precision is refused the same way: 10 significant decimals into Decimal(38, 9).
    await h.sql(`UPDATE prices SET price = 1.0000000001, updated_at = now() WHERE id = 2`);
    expect((await engine.runTable('prices')).quarantinedRows).toBe(1);
    expect((await listQuarantinedRows(h.meta, { table }))[0]?.reason).toMatch(
      /row \(id\) = \(2\): column price \(numeric\) holds a value that does not fit Decimal\(38, 9\): 1.0000000001$/,
    );

    await h.sql(`UPDATE prices SET price = 99.99, updated_at = now() WHERE id = 2`);
    const fixed = await engine.runTable('prices');
    expect(fixed.status).toBe('ok');
    expect(fixed.quarantinedRows).toBe(0);
    expect(await listQuarantinedRows(h.meta, { table })).toEqual([]);
    const r = await countAndSum(h, 'prices', 'biz_prices', 'id', 'price');
    expect(r.target).toEqual(r.source);
  } finally {
    await engine.stop();
  }
});

test('trap: TOAST-sized values in cursor mode (blocks bounded in bytes, values exact)', async () => {
  await h.sql(`CREATE TABLE blobs (id int PRIMARY KEY, body text, meta jsonb, size int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO blobs SELECT g, repeat(md5(g::text), 100000), jsonb_build_object('k', repeat('v', 300000)), g FROM generate_series(1, 6) g`);
  await h.sql(`INSERT INTO blobs SELECT g, 'small', '{}', g FROM generate_series(7, 200) g`);
  const s = sourceConfig(h, [cursorTable('blobs')], { blockBytes: 65_536 });
  expect((await runTable(h.deps(s), tableOf(s, 'blobs'))).status).toBe('ok');
  await h.sql(`UPDATE blobs SET size = size + 1000, updated_at = now() WHERE id IN (2, 3)`);
  expect((await runTable(h.deps(s), tableOf(s, 'blobs'))).status).toBe('ok');
  const src = await h.sql(`SELECT id, md5(body) AS body, md5(meta::text) AS meta FROM blobs WHERE id <= 6 ORDER BY id`);
  const dst = await h.chRows(`SELECT id, lower(hex(MD5(body))) AS body, lower(hex(MD5(meta))) AS meta FROM ${h.database}.biz_blobs WHERE id <= 6 ORDER BY id`);
  expect(dst).toEqual(src);
  const r = await countAndSum(h, 'blobs', 'biz_blobs', 'id', 'size');
  expect(r.target).toEqual(r.source);
});

test('trap: ADD COLUMN appears in ClickHouse automatically; a default is back-filled by a re-snapshot', async () => {
  await h.sql(`CREATE TABLE evolving (id int PRIMARY KEY, amount numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO evolving SELECT g, g FROM generate_series(1, 100) g`);
  const s = sourceConfig(h, [cursorTable('evolving')]);
  await runTable(h.deps(s), tableOf(s, 'evolving'));
  await h.sql(`DELETE FROM evolving WHERE id = 100`);

  // Nullable, no default: existing rows are NULL on both sides, no re-read needed.
  await h.sql(`ALTER TABLE evolving ADD COLUMN note text`);
  await h.sql(`INSERT INTO evolving VALUES (101, 1.01, now(), 'hello')`);
  const a = await runTable(h.deps(s), tableOf(s, 'evolving'));
  expect(a.schema?.added).toEqual(['note']);
  expect(a.snapshot).toBeUndefined();
  expect(await h.chRows(`SELECT note FROM ${h.database}.biz_evolving WHERE id = 101`)).toEqual([{ note: 'hello' }]);

  // With a default: every existing row has a value ClickHouse lacks, so the table is read again.
  await h.sql(`ALTER TABLE evolving ADD COLUMN channel text NOT NULL DEFAULT 'web'`);
  const b = await runTable(h.deps(s), tableOf(s, 'evolving'));
  expect(b.status).toBe('ok');
  expect(b.schema?.added).toEqual(['channel']);
  expect(b.snapshot?.finished).toBe(true);
  // The re-snapshot's reconciliation also removed the row deleted before.
  expect(b.reconcile?.extra).toBe(1);
  const [web] = await h.chRows<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.database}.biz_evolving WHERE channel = 'web'`);
  expect(web?.n).toBe('100');
  const r = await countAndSum(h, 'evolving', 'biz_evolving', 'id', 'amount');
  expect(r.target).toEqual(r.source);

  // A widening type change is followed (numeric(10,2) → numeric(12,2): Decimal(10, 2) → Decimal(12, 2)).
  await h.sql(`ALTER TABLE evolving ALTER COLUMN amount TYPE numeric(12,2)`);
  await h.sql(`UPDATE evolving SET amount = 1234567890.12, updated_at = now() WHERE id = 1`);
  const c = await runTable(h.deps(s), tableOf(s, 'evolving'));
  expect(c.status).toBe('ok');
  expect(c.schema?.modified).toEqual(['amount']);
  const r2 = await countAndSum(h, 'evolving', 'biz_evolving', 'id', 'amount');
  expect(r2.target).toEqual(r2.source);
});

test('an incompatible change quarantines only that table, with a clear error; a config change lifts it', async () => {
  await h.sql(`CREATE TABLE fragile (id int PRIMARY KEY, code text NOT NULL, amount numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`CREATE TABLE steady (id int PRIMARY KEY, amount numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO fragile SELECT g, 'c' || g, g FROM generate_series(1, 20) g`);
  await h.sql(`INSERT INTO steady SELECT g, g FROM generate_series(1, 20) g`);
  const doc = (fragile: Record<string, unknown>) => ({
    sources: [{ name: 'src', url: postgresUrl, schema: h.sourceSchema, tables: [cursorTable('fragile', fragile), cursorTable('steady')] }],
  });
  let engine = new EtlEngine({ config: parseEtlConfig(doc({})), clickhouse: h.ch, meta: h.meta, logger: silent, onProgress: () => undefined });
  try {
    expect((await engine.runAll()).every((r) => r.status === 'ok')).toBe(true);
    await h.sql(`ALTER TABLE fragile ALTER COLUMN code TYPE int USING 0`);
    await h.sql(`INSERT INTO steady VALUES (21, 21)`);
    const results = await engine.runAll();
    const fragile = results.find((r) => r.table.endsWith('.fragile'));
    expect(fragile?.status).toBe('quarantined');
    expect(fragile?.error?.message).toMatch(/column code changed from String to Int32 \(source type integer\), which would lose values/);
    expect(fragile?.error?.message).toMatch(/quarantined/);
    expect(results.find((r) => r.table.endsWith('.steady'))?.status).toBe('ok');
    const status = await engine.status();
    expect(status.tables.find((t) => t.name === 'fragile')).toMatchObject({ phase: 'quarantined', state: 'quarantined' });
    // It stays quarantined while the config is the same...
    expect((await engine.runTable('fragile')).status).toBe('quarantined');
    await engine.stop();

    // ...and a config that resolves it (land code as String again) lifts the quarantine.
    engine = new EtlEngine({
      config: parseEtlConfig(doc({ types: { code: 'String' } })),
      clickhouse: h.ch,
      meta: h.meta,
      logger: silent,
      onProgress: () => undefined,
    });
    const again = await engine.runTable('fragile');
    expect(again.status).toBe('ok');
    const r = await countAndSum(h, 'fragile', 'biz_fragile', 'id', 'amount');
    expect(r.target).toEqual(r.source);

    // A primary-key type change cannot be followed in place (a ClickHouse sort key): quarantined,
    // then a resync with rebuild recreates the table from a new snapshot.
    await h.sql(`ALTER TABLE fragile ALTER COLUMN id TYPE bigint`);
    const pk = await engine.runTable('fragile');
    expect(pk.status).toBe('quarantined');
    expect(pk.error?.message).toMatch(/primary-key column id changed from Int32 to Int64/);
    await engine.resync('fragile', { rebuild: true });
    expect((await engine.runTable('fragile')).status).toBe('ok');
    const types = await h.chRows<{ type: string }>(
      `SELECT type FROM system.columns WHERE database = '${h.database}' AND table = 'biz_fragile_v1' AND name = 'id'`,
    );
    expect(types).toEqual([{ type: 'Int64' }]);
    const r3 = await countAndSum(h, 'fragile', 'biz_fragile', 'id', 'amount');
    expect(r3.target).toEqual(r3.source);
  } finally {
    await engine.stop();
  }
});
