/**
 * (Over 400 lines on purpose: one table of source types, each with its
 * ClickHouse type, its exact-text expression and its guard; split, a type's
 * three answers would sit in different files and drift apart.)
 *
 * Postgres → ClickHouse type mapping, and the Postgres expression that turns
 * each column into the exact text ClickHouse's TabSeparated input parses
 * into the target type.
 *
 * Why the conversion happens in Postgres: rows stream from COPY straight
 * into ClickHouse without being parsed in JavaScript (the fast path the
 * benchmark measures), and CDC refetches use the very same expressions, so
 * there is one formatting path for every mode.
 *
 * Invariants:
 * - No silent loss. A value the target type cannot hold exactly (a numeric
 *   with more digits or decimals than its Decimal, a date outside Date32 /
 *   DateTime64, NaN or ±Infinity in a Decimal, a multi-dimensional array)
 *   makes the read fail with a message naming column, type and value.
 * - Every expression yields text or NULL (COPY writes NULL as \N, which
 *   ClickHouse reads as NULL for Nullable columns).
 * - Read transactions set TimeZone=UTC, DateStyle=ISO, IntervalStyle=postgres
 *   and extra_float_digits=1 locally (see source/session.ts): the text forms
 *   below rely on them.
 */
import { ValidationError } from '@tidemark/core';
import { pgIdent, pgLiteral } from '../sql/quote';

/** One column of a source table, as read from the Postgres catalog. */
export interface SourceColumn {
  name: string;
  attnum: number;
  notNull: boolean;
  /** typname of the column's type after resolving domains, e.g. int4, numeric, _text, or an enum's name. */
  typeName: string;
  /** pg_type.typtype of that base type: b base, e enum, c composite, r range, m multirange, p pseudo. */
  typeKind: string;
  /** pg_type.typcategory of the base type (A = array). */
  category: string;
  /** The declared type as SQL, with modifiers, for messages: numeric(14,2), character varying(20). */
  typeSql: string;
  /** The declared type without modifiers, to cast text back into the column's type (keys, cursors). */
  castSql: string;
  /** numeric(p,s) modifiers, when declared (also for numeric arrays). */
  numericPrecision?: number;
  numericScale?: number;
  /** For arrays: the element type. */
  elem?: { typeName: string; typeKind: string; category: string };
  /**
   * The column has a default, a "missing" value (ADD COLUMN ... DEFAULT) or
   * NOT NULL: when it is added to the source, existing rows may hold non-NULL
   * values, so the table is re-snapshotted.
   */
  hasDefault?: boolean;
}

/** How a primary-key column is compared during reconciliation (both sides sorted the same way). */
export type KeyKind = 'int' | 'decimal' | 'text' | 'uuid' | 'time' | 'bool' | 'hex';

export interface MappedColumn {
  name: string;
  source: SourceColumn;
  /** Full ClickHouse type, with Nullable(...) when the source column allows NULL. */
  chType: string;
  /** The type without Nullable. */
  baseChType: string;
  nullable: boolean;
  /** Postgres expression over `ref` (a column reference) giving ClickHouse input text or NULL. */
  select(ref: string): string;
  /**
   * For columns whose values may not fit the target type: a Postgres
   * expression over `ref` that is NULL when the value lands and otherwise the
   * reason (column, types, value). Reads skip rows where it is not NULL and
   * put them in the row quarantine (sync/quarantine.ts), so one bad value
   * never halts its table; the guard in `select` stays as the last line.
   */
  problem?(ref: string): string;
}

export interface MapOptions {
  /** Explicit ClickHouse type from the config's `types` map. */
  override?: string;
  /** Type for numeric columns declared without precision. */
  unconstrainedNumeric: { precision: number; scale: number };
  /** Primary-key columns are never Nullable (a ClickHouse sort key cannot be). */
  isKey: boolean;
}

const INT_TYPES: Record<string, string> = { int2: 'Int16', int4: 'Int32', int8: 'Int64', oid: 'UInt32', xid: 'UInt32' };
const FLOAT_TYPES: Record<string, string> = { float4: 'Float32', float8: 'Float64' };
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'char', 'citext']);
const TIME_TYPES = new Set(['timestamptz', 'timestamp']);

const INT_RANGES: Record<string, [bigint, bigint]> = {
  Int8: [-128n, 127n],
  Int16: [-32768n, 32767n],
  Int32: [-2147483648n, 2147483647n],
  Int64: [-9223372036854775808n, 9223372036854775807n],
  UInt8: [0n, 255n],
  UInt16: [0n, 65535n],
  UInt32: [0n, 4294967295n],
  UInt64: [0n, 18446744073709551615n],
};

/** Ranges ClickHouse can hold; values outside are clamped silently by ClickHouse, so they are refused here. */
const DATE32_MIN = '1900-01-01';
const DATE32_MAX_EXCLUSIVE = '2300-01-01';
const DT64_MIN = '1900-01-01 00:00:00';
const DT64_MAX_EXCLUSIVE = '2300-01-01 00:00:00';

/** A ClickHouse type accepted in the config's `types` map, parsed. */
export type OverrideType =
  | { kind: 'string'; lowCardinality: boolean }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'int'; name: string }
  | { kind: 'float'; name: string }
  | { kind: 'datetime64' }
  | { kind: 'date32' }
  | { kind: 'bool' }
  | { kind: 'uuid' };

/**
 * Parses an override such as "Decimal(20, 4)", "String", "Int64". Returns an
 * error message instead of throwing, so the config loader can name the path.
 */
export function parseOverride(text: string): OverrideType | string {
  const t = text.replace(/\s+/g, '');
  if (t === 'String') return { kind: 'string', lowCardinality: false };
  if (t === 'LowCardinality(String)') return { kind: 'string', lowCardinality: true };
  const dec = /^Decimal\((\d+),(\d+)\)$/.exec(t);
  if (dec) {
    const precision = Number(dec[1]);
    const scale = Number(dec[2]);
    if (precision < 1 || precision > 76) return `Decimal precision must be 1..76 (got ${precision})`;
    if (scale > precision) return `Decimal scale must be at most its precision (got ${scale} > ${precision})`;
    return { kind: 'decimal', precision, scale };
  }
  if (INT_RANGES[t]) return { kind: 'int', name: t };
  if (t === 'Float32' || t === 'Float64') return { kind: 'float', name: t };
  if (t === "DateTime64(6,'UTC')") return { kind: 'datetime64' };
  if (t === 'Date32') return { kind: 'date32' };
  if (t === 'Bool') return { kind: 'bool' };
  if (t === 'UUID') return { kind: 'uuid' };
  return `unsupported ClickHouse type ${JSON.stringify(text)}; use String, LowCardinality(String), Decimal(P, S), Int8..Int64, UInt8..UInt64, Float32, Float64, Date32, DateTime64(6, 'UTC'), Bool or UUID`;
}

function decimalType(p: number, s: number): string {
  return `Decimal(${p}, ${s})`;
}

/**
 * An expression that fails the read with a clear message. Postgres SQL has no
 * RAISE outside PL/pgSQL, and the source needs no setup, so the message is
 * carried by a failing cast; reader.ts turns the resulting
 * `invalid input syntax for type integer: "tidemark: ..."` into a DataError.
 */
export function failExpr(message: string, valueRef: string): string {
  return `((${pgLiteral(`tidemark: ${message}: `)} || (${valueRef})::text)::int)::text`;
}

/** Marker that reader.ts looks for in Postgres errors. */
export const FAIL_MARKER = /invalid input syntax for type integer: "tidemark: (.*)"$/s;

/**
 * Why a numeric value cannot land in Decimal(p, s), as a Postgres expression:
 * NULL when it fits. The value decides, not how it was written: `5.0000000000`
 * equals round(5.0000000000, s) and fits Decimal(38, 9) (the scale Postgres
 * keeps from the input is not a property of the value); 0.00001 does not fit
 * Decimal(18, 4) because rounding would change it. NaN and ±Infinity never
 * fit (NaN = NaN holds for numeric, but abs(NaN) and abs(Infinity) sort above
 * every limit).
 */
function decimalProblem(col: SourceColumn, ref: string, p: number, s: number): string {
  const limit = `1${'0'.repeat(p - s)}`;
  const msg = `column ${col.name} (${col.typeSql}) holds a value that does not fit ${decimalType(p, s)}: `;
  return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} = round(${ref}, ${s}) AND abs(${ref}) < ${limit} THEN NULL ELSE ${pgLiteral(msg)} || (${ref})::text END`;
}

function decimalGuard(col: SourceColumn, ref: string, p: number, s: number): string {
  const limit = `1${'0'.repeat(p - s)}`;
  const msg = `column ${col.name} (${col.typeSql}) holds a value that does not fit ${decimalType(p, s)}`;
  // round(v, s) prints exactly s decimals: ClickHouse never sees more decimals than its type has.
  return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} = round(${ref}, ${s}) AND abs(${ref}) < ${limit} THEN round(${ref}, ${s})::text ELSE ${failExpr(msg, ref)} END`;
}

function numericFitsWithoutGuard(col: SourceColumn, p: number, s: number): boolean {
  // numeric(p0,s0) always fits Decimal(p,s) when it has no more decimals and no
  // more integer digits. NaN is still possible in a constrained numeric:
  // ClickHouse refuses it loudly when parsing, so no guard is needed for it.
  if (col.numericPrecision === undefined || col.numericScale === undefined) return false;
  return col.numericScale <= s && col.numericPrecision - col.numericScale <= p - s && col.numericScale >= 0;
}

function rangeProblem(col: SourceColumn, ref: string, lo: string, hiExclusive: string, target: string, castSql: string): string {
  const msg = `column ${col.name} (${col.typeSql}) holds a value outside the range of ${target}: `;
  return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} >= ${pgLiteral(lo)}::${castSql} AND ${ref} < ${pgLiteral(hiExclusive)}::${castSql} THEN NULL ELSE ${pgLiteral(msg)} || (${ref})::text END`;
}

function rangeGuard(col: SourceColumn, ref: string, lo: string, hiExclusive: string, target: string, castSql: string, text: string): string {
  const msg = `column ${col.name} (${col.typeSql}) holds a value outside the range of ${target}`;
  return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} >= ${pgLiteral(lo)}::${castSql} AND ${ref} < ${pgLiteral(hiExclusive)}::${castSql} THEN ${text} ELSE ${failExpr(msg, ref)} END`;
}

interface Scalar {
  baseChType: string;
  select(ref: string): string;
  /** Inside a ClickHouse array literal: quoted ('...') or bare (numbers, bools). */
  quoted: boolean;
  /** See MappedColumn.problem. */
  problem?(ref: string): string;
}

function isNumericSource(t: string): boolean {
  return t === 'numeric' || t === 'money' || t in INT_TYPES;
}

/** The scalar mapping of one (non-array) Postgres type. */
function mapScalar(col: SourceColumn, typeName: string, typeKind: string, override: OverrideType | undefined, opts: MapOptions): Scalar {
  const numericRef = (ref: string): string => (typeName === 'money' ? `(${ref})::numeric` : ref);
  if (override) {
    switch (override.kind) {
      case 'string':
        return {
          baseChType: override.lowCardinality ? 'LowCardinality(String)' : 'String',
          select: (r) => (typeName === 'bytea' ? `encode(${r}, 'hex')` : `(${r})::text`),
          quoted: true,
        };
      case 'decimal':
        if (!isNumericSource(typeName) && !(typeName in FLOAT_TYPES)) break;
        return {
          baseChType: decimalType(override.precision, override.scale),
          select: (r) =>
            typeName === 'numeric' && numericFitsWithoutGuard(col, override.precision, override.scale)
              ? r
              : decimalGuard(col, `(${numericRef(r)})::numeric`, override.precision, override.scale),
          quoted: false,
          ...(typeName === 'numeric' && numericFitsWithoutGuard(col, override.precision, override.scale)
            ? {}
            : { problem: (r: string) => decimalProblem(col, `(${numericRef(r)})::numeric`, override.precision, override.scale) }),
        };
      case 'int': {
        if (!isNumericSource(typeName)) break;
        const range = INT_RANGES[override.name];
        if (!range) break;
        const msg = `column ${col.name} (${col.typeSql}) holds a value that does not fit ${override.name}`;
        // The value decides (5.00 is the integer 5), not the scale it was written with.
        const fits = (n: string): string => `${n} >= ${range[0]} AND ${n} <= ${range[1]} AND ${n} = trunc(${n})`;
        return {
          baseChType: override.name,
          select: (r) => {
            const n = `(${numericRef(r)})::numeric`;
            return `CASE WHEN ${r} IS NULL THEN NULL WHEN ${fits(n)} THEN trunc(${n})::text ELSE ${failExpr(msg, r)} END`;
          },
          problem: (r) => {
            const n = `(${numericRef(r)})::numeric`;
            return `CASE WHEN ${r} IS NULL THEN NULL WHEN ${fits(n)} THEN NULL ELSE ${pgLiteral(`${msg}: `)} || (${r})::text END`;
          },
          quoted: false,
        };
      }
      case 'float':
        if (!isNumericSource(typeName) && !(typeName in FLOAT_TYPES)) break;
        // Explicitly asked for: a float is approximate by nature.
        return { baseChType: override.name, select: (r) => `(${numericRef(r)})::float8::text`, quoted: false };
      case 'datetime64':
        if (!TIME_TYPES.has(typeName) && typeName !== 'date') break;
        return mapScalar(col, typeName === 'date' ? 'timestamp' : typeName, typeKind, undefined, opts);
      case 'date32':
        if (typeName !== 'date') break;
        return mapScalar(col, typeName, typeKind, undefined, opts);
      case 'bool':
        if (typeName !== 'bool') break;
        return mapScalar(col, typeName, typeKind, undefined, opts);
      case 'uuid':
        if (typeName !== 'uuid') break;
        return mapScalar(col, typeName, typeKind, undefined, opts);
    }
    throw new ValidationError(`column ${col.name} (${col.typeSql}) cannot be landed as ${JSON.stringify(override)}`);
  }

  if (typeKind === 'e') return { baseChType: 'LowCardinality(String)', select: (r) => `(${r})::text`, quoted: true };
  if (INT_TYPES[typeName]) return { baseChType: INT_TYPES[typeName], select: (r) => r, quoted: false };
  if (FLOAT_TYPES[typeName]) {
    // Postgres prints NaN / Infinity / -Infinity; ClickHouse reads nan / inf / -inf.
    return {
      baseChType: FLOAT_TYPES[typeName],
      select: (r) => `CASE WHEN ${r} = 'NaN' THEN 'nan' WHEN ${r} = 'Infinity' THEN 'inf' WHEN ${r} = '-Infinity' THEN '-inf' ELSE (${r})::text END`,
      quoted: false,
    };
  }
  if (typeName === 'numeric') {
    if (col.numericPrecision !== undefined && col.numericScale !== undefined && col.numericPrecision <= 76 && col.numericScale >= 0) {
      const p = col.numericPrecision;
      const s = col.numericScale;
      return { baseChType: decimalType(p, s), select: (r) => r, quoted: false };
    }
    if (col.numericPrecision !== undefined && col.numericPrecision > 76) {
      throw new ValidationError(
        `column ${col.name} is ${col.typeSql}: more digits than any ClickHouse Decimal (76); set types.${col.name} to "String" to land it as exact text`,
      );
    }
    const { precision: p, scale: s } = opts.unconstrainedNumeric;
    return { baseChType: decimalType(p, s), select: (r) => decimalGuard(col, r, p, s), problem: (r) => decimalProblem(col, r, p, s), quoted: false };
  }
  if (typeName === 'money') return { baseChType: decimalType(18, 2), select: (r) => `(${r})::numeric`, quoted: false };
  if (typeName === 'bool') return { baseChType: 'Bool', select: (r) => `CASE WHEN ${r} THEN 'true' WHEN NOT ${r} THEN 'false' END`, quoted: false };
  // bpchar goes out through its output function (COPY), keeping its padding; a ::text cast would trim it.
  if (TEXT_TYPES.has(typeName)) {
    return {
      baseChType: 'String',
      select: (r) =>
        typeName === 'bpchar'
          ? `CASE WHEN ${r} IS NULL THEN NULL ELSE format('%s', ${r}) END`
          : typeName === 'text' || typeName === 'varchar'
            ? r
            : `(${r})::text`,
      quoted: true,
    };
  }
  if (typeName === 'uuid') return { baseChType: 'UUID', select: (r) => r, quoted: true };
  if (typeName === 'json' || typeName === 'jsonb') return { baseChType: 'String', select: (r) => `(${r})::text`, quoted: true };
  if (typeName === 'bytea') return { baseChType: 'String', select: (r) => `encode(${r}, 'hex')`, quoted: true };
  if (typeName === 'date') {
    return {
      baseChType: 'Date32',
      select: (r) => rangeGuard(col, r, DATE32_MIN, DATE32_MAX_EXCLUSIVE, 'Date32', 'date', `(${r})::text`),
      problem: (r) => rangeProblem(col, r, DATE32_MIN, DATE32_MAX_EXCLUSIVE, 'Date32', 'date'),
      quoted: true,
    };
  }
  if (typeName === 'timestamptz') {
    // With TimeZone=UTC the text is "YYYY-MM-DD HH:MM:SS[.ffffff]+00": all six
    // fractional digits survive, and ClickHouse reads the +00 offset.
    return {
      baseChType: "DateTime64(6, 'UTC')",
      select: (r) => rangeGuard(col, r, `${DT64_MIN}+00`, `${DT64_MAX_EXCLUSIVE}+00`, "DateTime64(6, 'UTC')", 'timestamptz', `(${r})::text`),
      problem: (r) => rangeProblem(col, r, `${DT64_MIN}+00`, `${DT64_MAX_EXCLUSIVE}+00`, "DateTime64(6, 'UTC')", 'timestamptz'),
      quoted: true,
    };
  }
  if (typeName === 'timestamp') {
    // A timestamp without time zone is landed as the same wall-clock reading in UTC.
    return {
      baseChType: "DateTime64(6, 'UTC')",
      select: (r) => rangeGuard(col, r, DT64_MIN, DT64_MAX_EXCLUSIVE, "DateTime64(6, 'UTC')", 'timestamp', `(${r})::text`),
      problem: (r) => rangeProblem(col, r, DT64_MIN, DT64_MAX_EXCLUSIVE, "DateTime64(6, 'UTC')", 'timestamp'),
      quoted: true,
    };
  }
  // time, interval, inet, xml, ranges, composites, geometric...: exact text.
  return { baseChType: 'String', select: (r) => `(${r})::text`, quoted: true };
}

/** Maps one source column. Throws ValidationError for columns that cannot be landed exactly. */
export function mapColumn(col: SourceColumn, opts: MapOptions): MappedColumn {
  let override: OverrideType | undefined;
  if (opts.override !== undefined) {
    const parsed = parseOverride(opts.override);
    if (typeof parsed === 'string') throw new ValidationError(`types.${col.name}: ${parsed}`);
    override = parsed;
  }
  const nullable = !col.notNull && !opts.isKey;

  if (col.category === 'A' && col.elem && !(override && override.kind === 'string')) {
    if (override) throw new ValidationError(`column ${col.name} (${col.typeSql}) is an array: only "String" can override its type`);
    if (opts.isKey) throw new ValidationError(`column ${col.name} (${col.typeSql}): an array cannot be part of the primary key`);
    const elemCol: SourceColumn = { ...col, typeName: col.elem.typeName, typeKind: col.elem.typeKind, category: col.elem.category, elem: undefined };
    const scalar = mapScalar(elemCol, col.elem.typeName, col.elem.typeKind, undefined, opts);
    const e = '"__tm_e"';
    const inner = scalar.select(e);
    const element = scalar.quoted ? `'''' || replace(${inner}, '''', '''''') || ''''` : `(${inner})::text`;
    const msg = `column ${col.name} (${col.typeSql}) holds a multi-dimensional array; ClickHouse arrays here are one-dimensional`;
    // ClickHouse has no Nullable(Array): a NULL array lands as [] (documented).
    // Array elements are quoted with '' doubling; COPY's own escaping then
    // doubles backslashes and escapes tabs/newlines, exactly what ClickHouse's
    // quoted-string reader inside a TSV array expects.
    const baseChType = `Array(Nullable(${scalar.baseChType}))`;
    const elemProblem = scalar.problem;
    const dims = `column ${col.name} (${col.typeSql}) holds a multi-dimensional array; ClickHouse arrays here are one-dimensional`;
    return {
      name: col.name,
      source: col,
      chType: baseChType,
      baseChType,
      nullable: false,
      problem: (r) =>
        `CASE WHEN ${r} IS NULL THEN NULL WHEN array_ndims(${r}) > 1 THEN ${pgLiteral(dims)}${
          elemProblem ? ` ELSE (SELECT ${elemProblem(e)} FROM unnest(${r}) AS "__tm_u"(${e}) WHERE (${elemProblem(e)}) IS NOT NULL LIMIT 1)` : ''
        } END`,
      select: (r) =>
        `CASE WHEN ${r} IS NULL THEN '[]' WHEN array_ndims(${r}) > 1 THEN ${failExpr(msg, r)} ELSE '[' || coalesce((SELECT string_agg(CASE WHEN ${e} IS NULL THEN 'NULL' ELSE ${element} END, ',' ORDER BY "__tm_o") FROM unnest(${r}) WITH ORDINALITY AS "__tm_u"(${e}, "__tm_o")), '') || ']' END`,
    };
  }

  const scalar = mapScalar(col, col.typeName, col.typeKind, override, opts);
  const base = scalar.baseChType;
  let chType = base;
  if (nullable) chType = base.startsWith('LowCardinality(') ? `LowCardinality(Nullable(${base.slice('LowCardinality('.length, -1)}))` : `Nullable(${base})`;
  return { name: col.name, source: col, chType, baseChType: base, nullable, select: scalar.select, ...(scalar.problem ? { problem: scalar.problem } : {}) };
}

/** How a key column sorts and compares on both sides (reconciliation), or why it cannot. */
export function keyKind(col: MappedColumn): KeyKind | string {
  const t = col.source.typeName;
  // The ClickHouse side decides how the column sorts there, so it comes first.
  if (col.baseChType === 'String' || col.baseChType === 'LowCardinality(String)') return t === 'bytea' ? 'hex' : 'text';
  if (col.baseChType.startsWith('Decimal')) return 'decimal';
  if (t in INT_TYPES) return 'int';
  if (TEXT_TYPES.has(t)) return 'text';
  if (t === 'uuid') return 'uuid';
  if (t === 'date' || TIME_TYPES.has(t)) return 'time';
  if (t === 'bool') return 'bool';
  return `primary-key column ${col.name} of type ${col.source.typeSql} cannot be reconciled`;
}

/** Postgres expression for a key column in reconciliation: text comparable with the ClickHouse side. */
export function pgKeyText(col: MappedColumn, kind: KeyKind, ref: string): string {
  const t = col.source.typeName;
  switch (kind) {
    case 'time':
      if (t === 'date') return `(${ref})::text`;
      if (t === 'timestamptz') return `to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
      return `to_char(${ref}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'hex':
      return `encode(${ref}, 'hex')`;
    case 'bool':
      return `CASE WHEN ${ref} THEN 'true' ELSE 'false' END`;
    default:
      return `(${ref})::text`;
  }
}

/** Postgres ORDER BY term for a key column, matching ClickHouse's order of chKeyOrder. */
export function pgKeyOrder(col: MappedColumn, kind: KeyKind, ref: string): string {
  if (kind === 'text') return `(${ref})::text COLLATE "C"`;
  return ref;
}

/** ClickHouse expression (over a quoted column) to sort and print a key column. */
export function chKeyExpr(kind: KeyKind, quotedColumn: string): string {
  switch (kind) {
    case 'uuid':
    case 'time':
      return `toString(${quotedColumn})`;
    default:
      return quotedColumn;
  }
}

/** Quoted column reference with a table alias. */
export function colRef(alias: string, name: string): string {
  return `${alias}.${pgIdent(name)}`;
}
