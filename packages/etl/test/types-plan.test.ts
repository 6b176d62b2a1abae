import { ValidationError } from '@tidemark/core';
import { parseEtlConfig } from '../src/config/load';
import type { SourceTable } from '../src/source/catalog';
import { isWidening } from '../src/target/ddl';
import { keyKind, mapColumn, parseOverride, type SourceColumn } from '../src/target/types';
import { buildPlan, selectList } from '../src/sync/plan';

function col(name: string, typeName: string, extra: Partial<SourceColumn> = {}): SourceColumn {
  return { name, attnum: 1, notNull: false, typeName, typeKind: 'b', category: 'X', typeSql: typeName, castSql: typeName, ...extra };
}
const opts = { unconstrainedNumeric: { precision: 38, scale: 9 }, isKey: false };

describe('type mapping', () => {
  test.each([
    [col('a', 'int2', { notNull: true }), 'Int16'],
    [col('a', 'int4'), 'Nullable(Int32)'],
    [col('a', 'int8'), 'Nullable(Int64)'],
    [col('a', 'numeric', { numericPrecision: 14, numericScale: 2, notNull: true }), 'Decimal(14, 2)'],
    [col('a', 'numeric'), 'Nullable(Decimal(38, 9))'],
    [col('a', 'float8'), 'Nullable(Float64)'],
    [col('a', 'bool', { notNull: true }), 'Bool'],
    [col('a', 'text'), 'Nullable(String)'],
    [col('a', 'uuid', { notNull: true }), 'UUID'],
    [col('a', 'jsonb'), 'Nullable(String)'],
    [col('a', 'bytea'), 'Nullable(String)'],
    [col('a', 'date'), 'Nullable(Date32)'],
    [col('a', 'timestamptz', { notNull: true }), "DateTime64(6, 'UTC')"],
    [col('a', 'timestamp'), "Nullable(DateTime64(6, 'UTC'))"],
    [col('a', 'interval'), 'Nullable(String)'],
    [col('a', 'mood', { typeKind: 'e', notNull: true }), 'LowCardinality(String)'],
    [col('a', 'mood', { typeKind: 'e' }), 'LowCardinality(Nullable(String))'],
    [col('a', '_int4', { category: 'A', elem: { typeName: 'int4', typeKind: 'b', category: 'N' } }), 'Array(Nullable(Int32))'],
    [col('a', '_timestamptz', { category: 'A', elem: { typeName: 'timestamptz', typeKind: 'b', category: 'D' } }), "Array(Nullable(DateTime64(6, 'UTC')))"],
  ])('%o → %s', (c, type) => {
    expect(mapColumn(c, opts).chType).toBe(type);
  });

  test('overrides are parsed and checked against the source type', () => {
    expect(parseOverride('Decimal( 20 , 4 )')).toEqual({ kind: 'decimal', precision: 20, scale: 4 });
    expect(parseOverride('Decimal(3, 4)')).toMatch(/scale must be at most its precision/);
    expect(parseOverride('Nope')).toMatch(/unsupported ClickHouse type/);
    expect(mapColumn(col('a', 'int8', { notNull: true }), { ...opts, override: 'Decimal(30, 2)' }).chType).toBe('Decimal(30, 2)');
    expect(mapColumn(col('a', 'bytea'), { ...opts, override: 'String' }).select('x')).toBe("encode(x, 'hex')");
    expect(() => mapColumn(col('a', 'text'), { ...opts, override: 'Decimal(10, 2)' })).toThrow(ValidationError);
    expect(() => mapColumn(col('a', 'numeric', { numericPrecision: 100, numericScale: 2 }), opts)).toThrow(/set types\.a to "String"/);
  });

  test('numeric guards only where the target could lose a value', () => {
    const fits = mapColumn(col('a', 'numeric', { numericPrecision: 14, numericScale: 2 }), opts);
    expect(fits.select('t.a')).toBe('t.a');
    const guarded = mapColumn(col('a', 'numeric'), opts);
    // The value decides (t.a = round(t.a, 9)), not the scale it was written with.
    expect(guarded.select('t.a')).toContain('t.a = round(t.a, 9) AND abs(t.a) < 100000000000000000000000000000');
    expect(guarded.problem?.('t.a')).toContain('t.a = round(t.a, 9)');
    expect(guarded.select('t.a')).toContain("'tidemark: column a (numeric) holds a value that does not fit Decimal(38, 9): '");
    const narrowed = mapColumn(col('a', 'numeric', { numericPrecision: 14, numericScale: 2 }), { ...opts, override: 'Decimal(10, 2)' });
    expect(narrowed.select('t.a')).toContain('abs(');
  });

  test('key kinds follow the ClickHouse side of the column', () => {
    const key = { ...opts, isKey: true };
    expect(keyKind(mapColumn(col('a', 'int8', { notNull: true }), key))).toBe('int');
    expect(keyKind(mapColumn(col('a', 'int8', { notNull: true }), { ...key, override: 'String' }))).toBe('text');
    expect(keyKind(mapColumn(col('a', 'uuid', { notNull: true }), key))).toBe('uuid');
    expect(keyKind(mapColumn(col('a', 'timestamptz', { notNull: true }), key))).toBe('time');
    expect(keyKind(mapColumn(col('a', 'numeric', { notNull: true, numericPrecision: 10, numericScale: 0 }), key))).toBe('decimal');
    expect(keyKind(mapColumn(col('a', 'float8', { notNull: true }), key))).toMatch(/cannot be reconciled/);
  });

  test('widening: what MODIFY COLUMN may do without losing a value', () => {
    expect(isWidening('Int32', 'Int64')).toBe(true);
    expect(isWidening('Int64', 'Int32')).toBe(false);
    expect(isWidening('Decimal(10, 2)', 'Decimal(12, 2)')).toBe(true);
    expect(isWidening('Decimal(10, 2)', 'Decimal(10, 3)')).toBe(false);
    expect(isWidening('Int32', 'Decimal(12, 2)')).toBe(true);
    expect(isWidening('String', 'Nullable(String)')).toBe(true);
    expect(isWidening('Nullable(String)', 'String')).toBe(false);
    expect(isWidening('String', 'Int32')).toBe(false);
    expect(isWidening('Float32', 'Float64')).toBe(true);
  });
});

describe('table plan', () => {
  const source: SourceTable = {
    schema: 'public',
    name: 'orders',
    oid: 1,
    primaryKey: ['order_id'],
    estimatedRows: 0,
    replicaIdentity: 'd',
    columns: [
      col('order_id', 'int8', { notNull: true, castSql: 'bigint' }),
      col('amount', 'numeric', { notNull: true, numericPrecision: 14, numericScale: 2 }),
      col('notes', 'text'),
      col('updated_at', 'timestamptz', { notNull: true, castSql: 'timestamp with time zone' }),
      col('seq', 'int8'),
    ],
  };
  const table = (t: Record<string, unknown>) =>
    parseEtlConfig({ sources: [{ name: 's', url: 'postgres://x/y', tables: [{ name: 'orders', ...t }] }] }).sources[0]?.tables[0] as never;

  test('columns, key, target names and the select list', () => {
    const plan = buildPlan(table({ cursor: { column: 'updated_at' }, exclude: ['notes'] }), source);
    expect(plan.columns.map((c) => c.name)).toEqual(['order_id', 'amount', 'updated_at', 'seq']);
    expect(plan.key.map((k) => k.name)).toEqual(['order_id']);
    expect([plan.targetTable, plan.targetView, plan.pgTable]).toEqual(['orders_v1', 'orders', '"public"."orders"']);
    const list = selectList(plan, 't', '42', "'acme'");
    expect(list.startsWith(`('acme')::text, t."order_id"`)).toBe(true);
    // version, is_deleted, then the content hash of the landed columns (content reconciliation).
    expect(list).toContain(`(42)::text, '0', (('x' || substr(md5(ROW(t."order_id"`);
  });

  test('config that does not match the source is named precisely', () => {
    expect(() => buildPlan(table({ cursor: { column: 'nope' } }), source)).toThrow(/cursor column "nope" not found in public\.orders/);
    expect(() => buildPlan(table({ cursor: { column: 'seq' } }), source)).toThrow(/cursor column seq is int8; cursor mode needs timestamptz or timestamp/);
    expect(() => buildPlan(table({ mode: 'full', exclude: ['order_id'] }), source)).toThrow(/primary-key column\(s\) order_id cannot be excluded/);
    expect(() => buildPlan(table({ mode: 'full', include: ['ghost'] }), source)).toThrow(/included column "ghost" not found/);
    expect(() => buildPlan(table({ mode: 'full' }), { ...source, primaryKey: [] })).toThrow(/has no PRIMARY KEY; set primaryKey/);
    expect(buildPlan(table({ mode: 'full', include: ['amount'] }), source).columns.map((c) => c.name)).toEqual(['order_id', 'amount']);
  });
});
