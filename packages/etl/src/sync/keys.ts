/**
 * Primary-key plumbing shared by snapshot chunks, keyset pages,
 * reconciliation and CDC: row-comparison predicates, key lists passed as
 * JSON, TSV field decoding and a comparator that orders keys exactly as both
 * Postgres (ORDER BY pgKeyOrder) and ClickHouse (ORDER BY chKeyExpr) do.
 */
import { z } from 'zod';
import { InternalError } from '@tidemark/core';
import type { ParamSink } from '../sql/bind';
import { pgIdent } from '../sql/quote';
import type { KeyKind, MappedColumn } from '../target/types';

/** `(t.k1, t.k2)` */
export function keyTuple(key: MappedColumn[], alias: string): string {
  const cols = key.map((k) => `${alias}.${pgIdent(k.name)}`);
  return cols.length === 1 ? (cols[0] as string) : `(${cols.join(', ')})`;
}

/** `(v1::type1, v2::type2)` from text values. */
export function valueTuple(key: MappedColumn[], values: string[], params: ParamSink): string {
  const refs = key.map((k, i) => params.ref(values[i] as string, k.source.castSql));
  return refs.length === 1 ? (refs[0] as string) : `(${refs.join(', ')})`;
}

/** Predicate `lo <= key < hi` (either bound may be open). */
export function rangePredicate(key: MappedColumn[], alias: string, lo: string[] | null, hi: string[] | null, params: ParamSink): string {
  const parts: string[] = [];
  if (lo) parts.push(`${keyTuple(key, alias)} >= ${valueTuple(key, lo, params)}`);
  if (hi) parts.push(`${keyTuple(key, alias)} < ${valueTuple(key, hi, params)}`);
  return parts.length === 0 ? 'true' : parts.join(' AND ');
}

/** ORDER BY of the key in its native order (index order). */
export function keyOrder(key: MappedColumn[], alias: string): string {
  return key.map((k) => `${alias}.${pgIdent(k.name)}`).join(', ');
}

/** SELECT list giving each key column as text (castable back with ::castSql). */
export function keyTextList(key: MappedColumn[], alias: string): string {
  return key.map((k, i) => `(${alias}.${pgIdent(k.name)})::text AS k${i}`).join(', ');
}

/**
 * Row schema of a SELECT of keyTextList columns (k0, k1, ...: primary-key
 * columns as text, never NULL) and other text columns.
 */
export const keyTextRow = z.record(z.string(), z.string());

/** The key (k0, k1, ...) of a row read with keyTextList; a missing column is a bug in the SQL. */
export function keyFromRow(key: readonly unknown[], row: Readonly<Record<string, unknown>>): string[] {
  return key.map((_k, i) => {
    const v = row[`k${i}`];
    if (typeof v !== 'string') throw new InternalError(`key column k${i} missing from a key row`);
    return v;
  });
}

/**
 * A derived table of keys sent as one JSON array of arrays — [[k1, k2, extra...], ...] — through
 * one bound value: `(SELECT (x->>0)::t1 AS k0, ... FROM jsonb_array_elements(...) x) AS alias`.
 * `extra` names additional positions (e.g. a per-key version) read as numeric.
 */
export function keysTable(
  key: MappedColumn[],
  rows: string[][],
  params: ParamSink,
  alias: string,
  extra: string[] = [],
  decode?: (k: MappedColumn, i: number, expr: string) => string,
): string {
  const json = params.ref(JSON.stringify(rows), 'jsonb');
  const cols = key.map((k, i) => {
    const text = `(x->>${i})`;
    return `${decode ? decode(k, i, text) : `${text}::${k.source.castSql}`} AS k${i}`;
  });
  extra.forEach((name, j) => cols.push(`(x->>${key.length + j})::numeric AS ${pgIdent(name)}`));
  return `(SELECT ${cols.join(', ')} FROM jsonb_array_elements(${json}) AS x) AS ${alias}`;
}

/** `t.k1 = alias.k0 AND ...` */
export function keysJoin(key: MappedColumn[], table: string, keys: string): string {
  return key.map((k, i) => `${table}.${pgIdent(k.name)} = ${keys}.k${i}`).join(' AND ');
}

const ESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0', "'": "'", '"': '"', a: '\x07' };

/** Decodes one field of Postgres COPY text / ClickHouse TabSeparated (both backslash-escape). */
export function unescapeField(field: string): string {
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i] as string;
    if (c !== '\\' || i === field.length - 1) {
      out += c;
      continue;
    }
    const n = field[++i] as string;
    out += ESCAPES[n] ?? n;
  }
  return out;
}

/** Splits one TSV line (without its newline) into decoded fields. */
export function splitTsvLine(line: string): string[] {
  return line.split('\t').map(unescapeField);
}

/** Compares decimal strings ("-12.50", "3", "0.125") by value, without floating point. */
export function compareDecimal(a: string, b: string): number {
  const parse = (s: string): { sign: number; int: string; frac: string } => {
    const neg = s.startsWith('-');
    const [i = '0', f = ''] = s.replace(/^[-+]/, '').split('.');
    const int = i.replace(/^0+/, '');
    const frac = f.replace(/0+$/, '');
    return { sign: int === '' && frac === '' ? 0 : neg ? -1 : 1, int, frac };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.sign !== y.sign) return x.sign < y.sign ? -1 : 1;
  let magnitude = x.int.length !== y.int.length ? x.int.length - y.int.length : x.int < y.int ? -1 : x.int > y.int ? 1 : 0;
  if (magnitude === 0) {
    const len = Math.max(x.frac.length, y.frac.length);
    const p = x.frac.padEnd(len, '0');
    const q = y.frac.padEnd(len, '0');
    magnitude = p < q ? -1 : p > q ? 1 : 0;
  }
  return Math.sign(magnitude) * (x.sign === 0 ? 1 : x.sign);
}

function compareOne(kind: KeyKind, a: string, b: string): number {
  switch (kind) {
    case 'int': {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'decimal':
      return Math.sign(compareDecimal(a, b));
    default:
      // Byte order of UTF-8 = Postgres COLLATE "C" = ClickHouse String order.
      return Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  }
}

/** Orders decoded key tuples the way both engines sort them. */
export function compareKeys(kinds: KeyKind[], a: string[], b: string[]): number {
  for (let i = 0; i < kinds.length; i++) {
    const c = compareOne(kinds[i] as KeyKind, a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return 0;
}
