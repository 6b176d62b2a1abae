/**
 * A table's sync plan: the config joined with the source catalog — which
 * columns land, as which ClickHouse types, through which Postgres
 * expressions, keyed how, and the cursor column.
 */
import crypto from 'node:crypto';
import { ValidationError } from '@tidemark/core';
import type { TableConfig } from '../config/schema';
import type { LandedColumn } from '../checkpoint/store';
import type { SourceTable } from '../source/catalog';
import { pgTable } from '../sql/quote';
import { colRef, keyKind, mapColumn, type KeyKind, type MappedColumn, type SourceColumn } from '../target/types';

export interface TablePlan {
  cfg: TableConfig;
  source: SourceTable;
  /** Landed columns, in source order. */
  columns: MappedColumn[];
  /** Primary-key columns, in key order. */
  key: MappedColumn[];
  /** How each key column compares during reconciliation, or why the key cannot be reconciled. */
  keyKinds: KeyKind[] | string;
  cursor?: SourceColumn;
  /** Quoted "schema"."table" of the source. */
  pgTable: string;
  /** ReplacingMergeTree table and reader view in ClickHouse. */
  targetTable: string;
  targetView: string;
}

const problem = (cfg: TableConfig, message: string) => new ValidationError(`${cfg.key}: ${message}`, { context: { table: cfg.key } });

export function buildPlan(cfg: TableConfig, source: SourceTable): TablePlan {
  const byName = new Map(source.columns.map((c) => [c.name, c]));
  const missing = (names: string[] | undefined, what: string) => {
    const bad = (names ?? []).filter((n) => !byName.has(n));
    if (bad.length > 0)
      throw problem(
        cfg,
        `${what} ${bad.map((b) => JSON.stringify(b)).join(', ')} not found in ${source.schema}.${source.name} (columns: ${[...byName.keys()].join(', ')})`,
      );
  };
  const keyNames = cfg.primaryKey ?? source.primaryKey;
  if (keyNames.length === 0) throw problem(cfg, 'the table has no PRIMARY KEY; set primaryKey in the config (a unique, non-null column set)');
  missing(keyNames, 'primary-key column');
  missing(cfg.include, 'included column');
  missing(cfg.exclude, 'excluded column');
  missing(Object.keys(cfg.types), 'column in types');
  const excludedKey = keyNames.filter((k) => cfg.exclude?.includes(k));
  if (excludedKey.length > 0) throw problem(cfg, `primary-key column(s) ${excludedKey.join(', ')} cannot be excluded`);
  // The source's defaults apply to the columns this table has; the key is always kept.
  const d = cfg.fromDefaults ?? {};
  const include = cfg.include ?? d.include;
  const exclude = [...(cfg.exclude ?? []), ...(d.exclude ?? []).filter((n) => !keyNames.includes(n))];
  const types: Record<string, string> = { ...Object.fromEntries(Object.entries(d.types ?? {}).filter(([n]) => byName.has(n))), ...cfg.types };

  const landedNames = source.columns
    .map((c) => c.name)
    .filter((n) => (include ? include.includes(n) || keyNames.includes(n) : true))
    .filter((n) => !exclude.includes(n));
  for (const reserved of ['project_id', '_version', 'is_deleted', '_row_hash']) {
    if (landedNames.includes(reserved)) throw problem(cfg, `column ${reserved} collides with the column the target adds; exclude it`);
  }

  const columns = landedNames.map((n) => {
    const col = byName.get(n) as SourceColumn;
    try {
      return mapColumn(col, {
        ...(types[n] !== undefined ? { override: types[n] } : {}),
        unconstrainedNumeric: cfg.unconstrainedNumeric,
        isKey: keyNames.includes(n),
      });
    } catch (err) {
      throw problem(cfg, (err as Error).message);
    }
  });
  const key = keyNames.map((k) => columns.find((c) => c.name === k) as MappedColumn);
  const kinds = key.map(keyKind);
  const bad = kinds.find((k) => !['int', 'decimal', 'text', 'uuid', 'time', 'bool', 'hex'].includes(k));

  let cursor: SourceColumn | undefined;
  if (cfg.mode === 'cursor') {
    const name = cfg.cursor?.column as string;
    cursor = byName.get(name);
    if (!cursor) throw problem(cfg, `cursor column ${JSON.stringify(name)} not found in ${source.schema}.${source.name}`);
    if (cursor.typeName !== 'timestamptz' && cursor.typeName !== 'timestamp') {
      throw problem(cfg, `cursor column ${name} is ${cursor.typeSql}; cursor mode needs timestamptz or timestamp (use mode cdc or full otherwise)`);
    }
  }

  return {
    cfg,
    source,
    columns,
    key,
    keyKinds: bad ?? (kinds as KeyKind[]),
    ...(cursor ? { cursor } : {}),
    pgTable: pgTable(source.schema, source.name),
    targetTable: `${cfg.target}_v1`,
    targetView: cfg.target,
  };
}

/** The columns as recorded in the checkpoint (schema-evolution baseline). */
export function landedColumns(plan: TablePlan): LandedColumn[] {
  return plan.columns.map((c) => ({ name: c.name, sourceType: c.source.typeSql, chType: c.chType }));
}

/**
 * SELECT list of a landing read over alias `t`: project_id, every column's
 * text, then _version and is_deleted — in the order of landingColumns().
 * `projectSql` and `versionSql` are bound references (SettingParams).
 */
export function selectList(plan: TablePlan, alias: string, versionSql: string, projectSql: string): string {
  return [
    `(${projectSql})::text`,
    ...plan.columns.map((c) => c.select(colRef(alias, c.name))),
    `(${versionSql})::text`,
    `'0'`,
    `(${rowHashSql(plan, alias)})::text`,
  ].join(', ');
}

/**
 * A 60-bit hash of the row's landed columns as the source holds them (the
 * record's text form, under the read session's fixed DateStyle/TimeZone/
 * extra_float_digits). Stored with every landed row as _row_hash, and
 * computed again over the source by content reconciliation
 * (sync/content.ts): both sides' hashes come from Postgres, so no value has
 * to be formatted identically by two engines. 60 bits: a positive bigint,
 * and the per-range sums stay exact in numeric.
 */
export function rowHashSql(plan: TablePlan, alias: string): string {
  return `('x' || substr(md5(ROW(${plan.columns.map((c) => colRef(alias, c.name)).join(', ')})::text), 1, 15))::bit(60)::int8`;
}

/**
 * Why a row (alias `alias`) cannot land, or NULL when it can: the first
 * column problem (target/types.ts MappedColumn.problem). null when no column
 * of the table can hold an unlandable value (then reads need no filter).
 */
export function rowProblemSql(plan: TablePlan, alias: string): string | null {
  const parts = plan.columns.flatMap((c) => (c.problem ? [c.problem(colRef(alias, c.name))] : []));
  if (parts.length === 0) return null;
  return parts.length === 1 ? (parts[0] as string) : `coalesce(${parts.join(', ')})`;
}

/** ` AND <row lands>` for a landing read's WHERE, or '' when every row can land. */
export function landableFilter(plan: TablePlan, alias: string): string {
  const p = rowProblemSql(plan, alias);
  return p === null ? '' : ` AND (${p}) IS NULL`;
}

/** Columns of a full landed row, named in every insert (so the ClickHouse column order never matters). */
export function landingColumns(plan: TablePlan): string[] {
  return ['project_id', ...plan.columns.map((c) => c.name), '_version', 'is_deleted', '_row_hash'];
}

/** Columns of a tombstone row: the project, the key, the version and the flag; the rest takes defaults. */
export function tombstoneColumns(plan: TablePlan): string[] {
  return ['project_id', ...plan.key.map((k) => k.name), '_version', 'is_deleted'];
}

/** Identity of a table's config: a changed hash lifts a quarantine. */
export function configHash(cfg: TableConfig): string {
  return crypto.createHash('sha256').update(JSON.stringify(cfg)).digest('hex').slice(0, 16);
}
