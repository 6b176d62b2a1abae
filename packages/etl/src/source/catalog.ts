/**
 * Reads a source table's shape from the Postgres catalog: columns with their
 * resolved types (domains unwrapped, arrays' element types, numeric
 * precision/scale), the primary key, and a row estimate.
 */
import { z } from 'zod';
import { NotFoundError, pgMaybeOne, pgRows, ValidationError, type Queryable } from '@tidemark/core';
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

// oids are read as int8 (text in node-postgres) and fit a double.
const typeQuery = {
  name: 'etl.catalog_type',
  sql: `SELECT oid::int8 AS oid, typname, typtype, typcategory, typelem::int8 AS typelem, typbasetype::int8 AS typbasetype, typtypmod FROM pg_type WHERE oid = $1`,
  row: z.object({
    oid: z.coerce.number(),
    typname: z.string(),
    typtype: z.string(),
    typcategory: z.string(),
    typelem: z.coerce.number(),
    typbasetype: z.coerce.number(),
    typtypmod: z.coerce.number(),
  }),
};
type TypeRow = z.output<typeof typeQuery.row>;

const relationQuery = {
  name: 'etl.catalog_relation',
  sql: `SELECT c.oid::int8 AS oid, c.relkind, c.reltuples::float8 AS reltuples, c.relreplident
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2`,
  row: z.object({ oid: z.coerce.number(), relkind: z.string(), reltuples: z.number(), relreplident: z.string() }),
};

const columnsQuery = {
  name: 'etl.catalog_columns',
  sql: `SELECT a.attnum, a.attname, a.attnotnull, a.atttypid::int8 AS atttypid, a.atttypmod, (a.atthasdef OR a.atthasmissing) AS has_default,
               format_type(a.atttypid, a.atttypmod) AS type_sql, format_type(a.atttypid, NULL) AS cast_sql
          FROM pg_attribute a
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum`,
  row: z.object({
    attnum: z.coerce.number(),
    attname: z.string(),
    attnotnull: z.boolean(),
    atttypid: z.coerce.number(),
    atttypmod: z.coerce.number(),
    has_default: z.boolean(),
    type_sql: z.string(),
    cast_sql: z.string(),
  }),
};

const primaryKeyQuery = {
  name: 'etl.catalog_primary_key',
  sql: `SELECT a.attname
          FROM pg_index i
          CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = $1 AND i.indisprimary
         ORDER BY k.ord`,
  row: z.object({ attname: z.string() }),
};

async function typeInfo(db: Queryable, oid: number): Promise<TypeRow> {
  const r = await pgMaybeOne(db, typeQuery, [oid]);
  if (!r) throw new NotFoundError(`type oid ${oid} not found`);
  return r;
}

/** Follows domains down to their base type, keeping the innermost type modifier. */
async function resolveDomain(db: Queryable, oid: number, typmod: number): Promise<{ t: TypeRow; typmod: number }> {
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

export async function readSourceTable(db: Queryable, schema: string, name: string): Promise<SourceTable> {
  const r = await pgMaybeOne(db, relationQuery, [schema, name]);
  if (!r) throw new NotFoundError(`source table ${schema}.${name} does not exist`);
  if (!['r', 'p'].includes(r.relkind)) throw new ValidationError(`source ${schema}.${name} is not a table (relkind ${r.relkind})`);
  const oid = r.oid;
  const columns: SourceColumn[] = [];
  for (const c of await pgRows(db, columnsQuery, [oid])) {
    const { t, typmod } = await resolveDomain(db, c.atttypid, c.atttypmod);
    const col: SourceColumn = {
      name: c.attname,
      attnum: c.attnum,
      notNull: c.attnotnull,
      typeName: t.typname,
      typeKind: t.typtype,
      category: t.typcategory,
      typeSql: c.type_sql,
      castSql: c.cast_sql,
      hasDefault: c.has_default || c.attnotnull,
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
  const pk = await pgRows(db, primaryKeyQuery, [oid]);
  return {
    schema,
    name,
    oid,
    columns,
    primaryKey: pk.map((x) => x.attname),
    estimatedRows: Math.max(0, Math.round(r.reltuples)),
    replicaIdentity: r.relreplident,
  };
}
