/**
 * Reads a source table's shape from the Postgres catalog: columns with their
 * resolved types (domains unwrapped, arrays' element types, numeric
 * precision/scale), the primary key, and a row estimate.
 */
import type { Pool, PoolClient } from 'pg';
import { NotFoundError, ValidationError } from '@tidemark/core';
import type { SourceColumn } from '../target/types';

export interface SourceTable {
  schema: string;
  name: string;
  oid: number;
  columns: SourceColumn[];
  /** Primary-key column names in key order (empty when the table has none). */
  primaryKey: string[];
  /** pg_class.reltuples (-1 or 0 when never analysed). */
  estimatedRows: number;
  /** REPLICA IDENTITY: d default, n nothing, f full, i index. */
  replicaIdentity: string;
}

interface TypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typcategory: string;
  typelem: number;
  typbasetype: number;
  typtypmod: number;
}

async function typeInfo(db: Pool | PoolClient, oid: number): Promise<TypeRow> {
  const { rows } = await db.query(
    `SELECT oid::int8 AS oid, typname, typtype, typcategory, typelem::int8 AS typelem, typbasetype::int8 AS typbasetype, typtypmod FROM pg_type WHERE oid = $1`,
    [oid],
  );
  const r = rows[0] as Record<string, unknown> | undefined;
  if (!r) throw new NotFoundError(`type oid ${oid} not found`);
  return {
    oid: Number(r.oid),
    typname: r.typname as string,
    typtype: r.typtype as string,
    typcategory: r.typcategory as string,
    typelem: Number(r.typelem),
    typbasetype: Number(r.typbasetype),
    typtypmod: Number(r.typtypmod),
  };
}

/** Follows domains down to their base type, keeping the innermost type modifier. */
async function resolveDomain(db: Pool | PoolClient, oid: number, typmod: number): Promise<{ t: TypeRow; typmod: number }> {
  let t = await typeInfo(db, oid);
  let mod = typmod;
  for (let depth = 0; t.typtype === 'd' && depth < 16; depth++) {
    if (mod < 0) mod = t.typtypmod;
    t = await typeInfo(db, t.typbasetype);
  }
  return { t, typmod: mod };
}

/** numeric typmod → precision/scale (scale may be negative since Postgres 15). */
function numericMod(typmod: number): { precision: number; scale: number } | undefined {
  if (typmod < 4) return undefined;
  const v = typmod - 4;
  const precision = (v >> 16) & 0xffff;
  const scale = ((v & 0x7ff) ^ 1024) - 1024;
  if (scale < 0) return { precision: precision - scale, scale: 0 };
  return { precision, scale };
}

export async function readSourceTable(db: Pool | PoolClient, schema: string, name: string): Promise<SourceTable> {
  const rel = await db.query(
    `SELECT c.oid::int8 AS oid, c.relkind, c.reltuples::float8 AS reltuples, c.relreplident
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  const r = rel.rows[0] as Record<string, unknown> | undefined;
  if (!r) throw new NotFoundError(`source table ${schema}.${name} does not exist`);
  if (!['r', 'p'].includes(r.relkind as string)) throw new ValidationError(`source ${schema}.${name} is not a table (relkind ${String(r.relkind)})`);
  const oid = Number(r.oid);
  const cols = await db.query(
    `SELECT a.attnum, a.attname, a.attnotnull, a.atttypid::int8 AS atttypid, a.atttypmod, (a.atthasdef OR a.atthasmissing) AS has_default,
            format_type(a.atttypid, a.atttypmod) AS type_sql, format_type(a.atttypid, NULL) AS cast_sql
       FROM pg_attribute a
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  const columns: SourceColumn[] = [];
  for (const c of cols.rows as Record<string, unknown>[]) {
    const { t, typmod } = await resolveDomain(db, Number(c.atttypid), Number(c.atttypmod));
    const col: SourceColumn = {
      name: c.attname as string,
      attnum: Number(c.attnum),
      notNull: c.attnotnull as boolean,
      typeName: t.typname,
      typeKind: t.typtype,
      category: t.typcategory,
      typeSql: c.type_sql as string,
      castSql: c.cast_sql as string,
      hasDefault: (c.has_default as boolean) || (c.attnotnull as boolean),
    };
    let numericOwner = t;
    if (t.typcategory === 'A' && t.typelem) {
      const { t: e } = await resolveDomain(db, t.typelem, -1);
      col.elem = { typeName: e.typname, typeKind: e.typtype, category: e.typcategory };
      numericOwner = e;
    }
    if (numericOwner.typname === 'numeric') {
      const m = numericMod(typmod);
      if (m) {
        col.numericPrecision = m.precision;
        col.numericScale = m.scale;
      }
    }
    columns.push(col);
  }
  const pk = await db.query(
    `SELECT a.attname
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary
      ORDER BY k.ord`,
    [oid],
  );
  return {
    schema,
    name,
    oid,
    columns,
    primaryKey: (pk.rows as { attname: string }[]).map((x) => x.attname),
    estimatedRows: Math.max(0, Math.round(Number(r.reltuples))),
    replicaIdentity: r.relreplident as string,
  };
}
