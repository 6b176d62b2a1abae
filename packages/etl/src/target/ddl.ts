/**
 * ClickHouse objects of a synced table, created from the source schema:
 *
 *   <target>_v1  ReplacingMergeTree(_version, is_deleted), ORDER BY the primary key
 *   <target>     view: SELECT <columns> FROM <target>_v1 FINAL WHERE is_deleted = 0
 *
 * Readers use the view: FINAL collapses every key to its highest _version
 * (ties: the last inserted), so a row re-landed by a retry, an overlap
 * re-read or a replayed CDC batch is never counted twice, and tombstones
 * hide deleted keys.
 *
 * Identifiers are quoted (chIdent) and Tidemark-made names are plain
 * identifiers; no value is ever part of the DDL text.
 */
import { z } from 'zod';
import { clusterize, type ClickHouse } from '@tidemark/core';
import { SchemaIncompatibleError } from '../errors';
import type { TablePlan } from '../sync/plan';
import { assertPlainIdentifier, chIdent } from '../sql/quote';
import type { MappedColumn } from './types';

export interface DdlOptions {
  /** CLICKHOUSE_CLUSTER: DDL runs ON CLUSTER with Replicated engines (core's clusterize). */
  cluster?: string;
}

function qualified(ch: ClickHouse, name: string): string {
  return `${chIdent(assertPlainIdentifier('ClickHouse database', ch.database))}.${chIdent(assertPlainIdentifier('ClickHouse table', name))}`;
}

async function run(ch: ClickHouse, sql: string, opts: DdlOptions): Promise<void> {
  await ch.command(opts.cluster ? clusterize(sql, { cluster: opts.cluster }) : sql);
}

export function createTableSql(ch: ClickHouse, plan: TablePlan): string {
  // project_id first: every query is scoped to one project, so it leads the sort key too.
  const cols = ['  `project_id` LowCardinality(String)', ...plan.columns.map((c) => `  ${chIdent(c.name)} ${c.chType}`)];
  // _row_hash: the source row's content hash at landing (sync/plan.ts rowHashSql), what content reconciliation compares.
  cols.push('  `_version` UInt64', '  `is_deleted` UInt8', '  `_row_hash` UInt64');
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified(ch, plan.targetTable)}`,
    `(`,
    cols.join(',\n'),
    `)`,
    // _version comes from the source (snapshot xmax / commit LSN), never from this process's clock.
    `ENGINE = ReplacingMergeTree(_version, is_deleted)`,
    `ORDER BY (\`project_id\`, ${plan.key.map((k) => chIdent(k.name)).join(', ')})`,
    // The window makes retried blocks (same insert_deduplication_token) no-ops;
    // cleanup lets OPTIMIZE ... FINAL CLEANUP drop old tombstones.
    `SETTINGS non_replicated_deduplication_window = 10000, allow_experimental_replacing_merge_with_cleanup = 1`,
  ].join('\n');
}

export function createViewSql(ch: ClickHouse, plan: TablePlan, columns: string[]): string {
  return `CREATE OR REPLACE VIEW ${qualified(ch, plan.targetView)} AS SELECT ${['project_id', ...columns].map(chIdent).join(', ')} FROM ${qualified(ch, plan.targetTable)} FINAL WHERE is_deleted = 0`;
}

/** (Re)creates the reader view over every column of the plan: after the table is made, and after each change of its columns. */
async function replaceView(ch: ClickHouse, plan: TablePlan, opts: DdlOptions): Promise<void> {
  await run(
    ch,
    createViewSql(
      ch,
      plan,
      plan.columns.map((c) => c.name),
    ),
    opts,
  );
}

const columnRow = z.object({ name: z.string(), type: z.string(), is_in_sorting_key: z.coerce.number() });

export async function readTargetColumns(ch: ClickHouse, table: string): Promise<z.output<typeof columnRow>[]> {
  const q = ch.query({
    name: 'etl.target_columns',
    sql: `SELECT name, type, is_in_sorting_key FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position`,
    params: z.object({ db: z.string(), table: z.string() }),
    row: columnRow,
  });
  return q({ db: ch.database, table });
}

const sortingKeyRow = z.object({ sorting_key: z.string() });

/**
 * The table's sort key in key order. system.columns lists columns in table
 * order (is_in_sorting_key is only a flag), so a key declared (b, a) read
 * from there looked like (a, b) and was reported as a changed key; the
 * sorting_key expression of system.tables keeps the declared order.
 */
export async function readSortingKey(ch: ClickHouse, table: string): Promise<string[]> {
  const q = ch.query({
    name: 'etl.target_sorting_key',
    sql: `SELECT sorting_key FROM system.tables WHERE database = {db:String} AND name = {table:String}`,
    params: z.object({ db: z.string(), table: z.string() }),
    row: sortingKeyRow,
  });
  const rows = await q({ db: ch.database, table });
  const text = rows[0]?.sorting_key ?? '';
  if (text.trim() === '') return [];
  // Plain columns only (Tidemark makes the key): `a`, b, `we``ird` → names.
  return text.split(/,\s*/).map((p) => {
    const t = p.trim();
    return t.startsWith('`') && t.endsWith('`') ? t.slice(1, -1).replace(/``/g, '`').replace(/\\`/g, '`') : t;
  });
}

/** ClickHouse's canonical spelling of a type, so "Decimal(14,2)" and "Decimal(14, 2)" compare equal. */
function norm(t: string): string {
  return t.replace(/\s+/g, '');
}

const INT_ORDER = ['Int8', 'Int16', 'Int32', 'Int64', 'Int128', 'Int256'];
const UINT_ORDER = ['UInt8', 'UInt16', 'UInt32', 'UInt64', 'UInt128', 'UInt256'];

function unwrapNullable(t: string): { inner: string; nullable: boolean } {
  const m = /^Nullable\((.*)\)$/.exec(t);
  if (m && m[1]) return { inner: m[1], nullable: true };
  const lc = /^LowCardinality\(Nullable\((.*)\)\)$/.exec(t);
  if (lc && lc[1]) return { inner: `LowCardinality(${lc[1]})`, nullable: true };
  return { inner: t, nullable: false };
}

function digits(t: string): { p: number; s: number } | undefined {
  const m = /^Decimal\((\d+),(\d+)\)$/.exec(t);
  if (m) return { p: Number(m[1]), s: Number(m[2]) };
  const intDigits: Record<string, number> = { Int8: 3, Int16: 5, Int32: 10, Int64: 19, UInt8: 3, UInt16: 5, UInt32: 10, UInt64: 20 };
  return intDigits[t] !== undefined ? { p: intDigits[t], s: 0 } : undefined;
}

/**
 * Can a column of type `from` become `to` without losing a value? (The
 * source widened it: int4 → int8, numeric(10,2) → numeric(14,2), NOT NULL
 * dropped, varchar(20) → text.)
 */
export function isWidening(fromType: string, toType: string): boolean {
  const from = unwrapNullable(norm(fromType));
  const to = unwrapNullable(norm(toType));
  if (from.nullable && !to.nullable) return false;
  const a = from.inner;
  const b = to.inner;
  if (a === b) return true;
  if (INT_ORDER.includes(a) && INT_ORDER.includes(b)) return INT_ORDER.indexOf(b) >= INT_ORDER.indexOf(a);
  if (UINT_ORDER.includes(a) && UINT_ORDER.includes(b)) return UINT_ORDER.indexOf(b) >= UINT_ORDER.indexOf(a);
  if (UINT_ORDER.includes(a) && INT_ORDER.includes(b)) return INT_ORDER.indexOf(b) > UINT_ORDER.indexOf(a);
  if (a === 'Float32' && b === 'Float64') return true;
  if (b.startsWith('Decimal(')) {
    const x = digits(a);
    const y = digits(b);
    return x !== undefined && y !== undefined && y.s >= x.s && y.p - y.s >= x.p - x.s;
  }
  if ((a === 'String' && b === 'LowCardinality(String)') || (a === 'LowCardinality(String)' && b === 'String')) return true;
  return false;
}

export interface EvolveResult {
  created: boolean;
  added: string[];
  modified: string[];
  /** Existing rows may hold values ClickHouse does not have yet (a column with a default was added). */
  resnapshot: boolean;
}

/**
 * Makes the ClickHouse table and view match the plan. Compatible changes are
 * applied (ADD COLUMN, lossless MODIFY COLUMN); anything else throws
 * SchemaIncompatibleError naming the column and what changed, and nothing is
 * altered.
 */
export async function ensureTarget(ch: ClickHouse, plan: TablePlan, opts: DdlOptions = {}): Promise<EvolveResult> {
  const existing = await readTargetColumns(ch, plan.targetTable);
  const result: EvolveResult = { created: false, added: [], modified: [], resnapshot: false };
  if (existing.length === 0) {
    await run(ch, createTableSql(ch, plan), opts);
    await replaceView(ch, plan, opts);
    result.created = true;
    return result;
  }
  const table = plan.cfg.key;
  const byName = new Map(existing.map((c) => [c.name, c]));
  const problems: string[] = [];
  const sortingKey = await readSortingKey(ch, plan.targetTable);
  const wantKey = ['project_id', ...plan.key.map((k) => k.name)];
  if (sortingKey.join(',') !== wantKey.join(',')) {
    problems.push(
      `primary key changed from (${sortingKey.join(', ')}) to (${wantKey.join(', ')}) (the source's PRIMARY KEY, or primaryKey in the config, in its declared order); ClickHouse cannot change a sort key: resync the table with rebuild`,
    );
  }
  const wanted = new Set(plan.columns.map((c) => c.name));
  for (const c of existing) {
    if (c.name === '_version' || c.name === 'is_deleted' || c.name === 'project_id' || c.name === '_row_hash') continue;
    if (!wanted.has(c.name)) problems.push(`column ${c.name} is no longer in the source (dropped, renamed or excluded)`);
  }
  const alters: string[] = [];
  let previous: MappedColumn | undefined;
  for (const col of plan.columns) {
    const have = byName.get(col.name);
    if (!have) {
      const after = ` AFTER ${chIdent(previous ? previous.name : 'project_id')}`;
      alters.push(`ADD COLUMN IF NOT EXISTS ${chIdent(col.name)} ${col.chType}${after}`);
      result.added.push(col.name);
      if (col.source.hasDefault) result.resnapshot = true;
    } else if (norm(have.type) !== norm(col.chType)) {
      // A source that became NOT NULL keeps its Nullable target column: no value is lost.
      if (
        norm(have.type) === norm(`Nullable(${col.chType})`) ||
        norm(have.type) === norm(col.chType.replace(/^LowCardinality\((.*)\)$/, 'LowCardinality(Nullable($1))'))
      ) {
        previous = col;
        continue;
      }
      if (have.is_in_sorting_key === 1) {
        // ClickHouse cannot change the type of a sort-key column in place.
        problems.push(
          `primary-key column ${col.name} changed from ${have.type} to ${col.chType} (source type ${col.source.typeSql}); ClickHouse cannot alter a sort-key column`,
        );
      } else if (isWidening(have.type, col.chType)) {
        alters.push(`MODIFY COLUMN ${chIdent(col.name)} ${col.chType}`);
        result.modified.push(col.name);
      } else {
        problems.push(`column ${col.name} changed from ${have.type} to ${col.chType} (source type ${col.source.typeSql}), which would lose values`);
      }
    }
    previous = col;
  }
  if (problems.length > 0) {
    throw new SchemaIncompatibleError(
      `${table}: incompatible source schema change for ${ch.database}.${plan.targetTable}: ${problems.join('; ')}. ` +
        `The table is quarantined (others keep syncing). Fix: set include/exclude/types in the ETL config, or resync the table with rebuild ` +
        `(drops and recreates ${plan.targetTable} from a new snapshot).`,
      { context: { table, problems } },
    );
  }
  // Tables made before content reconciliation: their rows read as hash 0 and are re-landed by it.
  if (!byName.has('_row_hash')) alters.push('ADD COLUMN IF NOT EXISTS `_row_hash` UInt64');
  for (const a of alters) await run(ch, `ALTER TABLE ${qualified(ch, plan.targetTable)} ${a}`, opts);
  if (alters.length > 0) await replaceView(ch, plan, opts);
  return result;
}

/** Drops the table and its view (resync with rebuild). */
export async function dropTarget(ch: ClickHouse, plan: Pick<TablePlan, 'targetTable' | 'targetView'>, opts: DdlOptions = {}): Promise<void> {
  await run(ch, `DROP VIEW IF EXISTS ${qualified(ch, plan.targetView)}`, opts);
  await run(ch, `DROP TABLE IF EXISTS ${qualified(ch, plan.targetTable)}`, opts);
}

/**
 * Physically removes tombstones and superseded versions (OPTIMIZE ... FINAL
 * CLEANUP). Safe only for tombstones no older version can arrive after:
 * callers run it when no run of the table is in flight (under its lock).
 */
export async function cleanupTarget(ch: ClickHouse, table: string, opts: DdlOptions = {}): Promise<void> {
  await run(ch, `OPTIMIZE TABLE ${qualified(ch, table)} FINAL CLEANUP`, opts);
}

export { qualified as qualifiedTarget };
