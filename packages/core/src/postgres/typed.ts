import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { z } from 'zod';
import { InternalError } from '../errors';

/**
 * Typed access to the metadata Postgres, with the same care as the ClickHouse
 * layer: every query that reads rows names its row schema, and the rows are
 * checked against it, so a column renamed in a migration fails loudly with the
 * query's name instead of flowing on as `undefined`. No caller casts a row.
 *
 * Remember what node-postgres returns: `bigint`/`numeric` arrive as strings
 * (use `z.coerce.number()` only where the value fits a double), `timestamptz`
 * as `Date`, `jsonb` already parsed.
 */

/** A pool or a checked-out client (inside a transaction). */
export type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

export interface PgQueryDef<R extends z.ZodType> {
  /** Names the query in errors and logs. */
  name: string;
  sql: string;
  /** The schema of one result row. */
  row: R;
}

/**
 * Errors are rethrown as node-postgres raised them: callers test SQLSTATE
 * codes (23505 and the like) and the API classifies at its boundary.
 */
async function run(db: Queryable, sql: string, params: readonly unknown[]): Promise<{ rows: QueryResultRow[]; rowCount: number }> {
  const r = await db.query(sql, params as unknown[]);
  return { rows: r.rows, rowCount: r.rowCount ?? 0 };
}

function check<R extends z.ZodType>(def: PgQueryDef<R>, rows: QueryResultRow[]): z.output<R>[] {
  const out: z.output<R>[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = def.row.safeParse(rows[i]);
    // The schema and the SQL disagree: a bug, reported with the query's name.
    if (!r.success)
      throw new InternalError(`Postgres query ${def.name}: unexpected row shape: ${z.prettifyError(r.error)}`, { context: { queryName: def.name } });
    out[i] = r.data;
  }
  return out;
}

/** Runs a query and returns its rows, each checked against `def.row`. */
export async function pgRows<R extends z.ZodType>(db: Queryable, def: PgQueryDef<R>, params: readonly unknown[] = []): Promise<z.output<R>[]> {
  const { rows } = await run(db, def.sql, params);
  return check(def, rows);
}

/** The first row, or undefined when the query returned none. */
export async function pgMaybeOne<R extends z.ZodType>(db: Queryable, def: PgQueryDef<R>, params: readonly unknown[] = []): Promise<z.output<R> | undefined> {
  const rows = await pgRows(db, def, params);
  return rows[0];
}

/** Exactly one row; anything else is a bug (an aggregate, an INSERT ... RETURNING). */
export async function pgOne<R extends z.ZodType>(db: Queryable, def: PgQueryDef<R>, params: readonly unknown[] = []): Promise<z.output<R>> {
  const rows = await pgRows(db, def, params);
  if (rows.length !== 1) throw new InternalError(`Postgres query ${def.name}: expected one row, got ${rows.length}`, { context: { queryName: def.name } });
  return rows[0] as z.output<R>;
}

/** A statement whose rows are not read (INSERT/UPDATE/DELETE/DDL); returns the affected row count. */
export async function pgExec(db: Queryable, sql: string, params: readonly unknown[] = []): Promise<number> {
  const { rowCount } = await run(db, sql, params);
  return rowCount;
}

/** Returned from a transaction body to roll back without an error; `value` becomes the result. */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/** Rolls the transaction back and returns `value` from `withTransaction`. */
export function rollback<T>(value: T): Rollback<T> {
  return new Rollback(value);
}

/**
 * Runs `body` in one transaction on a client of `pool`: COMMIT when it
 * returns, ROLLBACK when it throws (the error is rethrown) or returns
 * `rollback(value)`. A client whose ROLLBACK failed is destroyed rather than
 * returned to the pool, since its session state is unknown.
 */
export async function withTransaction<T>(
  pool: Pick<Pool, 'connect'>,
  body: (client: PoolClient) => Promise<T | Rollback<T>>,
  opts: { isolation?: 'read committed' | 'repeatable read' | 'serializable' } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(opts.isolation ? `BEGIN ISOLATION LEVEL ${opts.isolation.toUpperCase()}` : 'BEGIN');
    let result: T | Rollback<T>;
    try {
      result = await body(client);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    }
    const end = result instanceof Rollback ? 'ROLLBACK' : 'COMMIT';
    try {
      await client.query(end);
    } catch (err) {
      // A failed COMMIT/ROLLBACK leaves the session in an unknown state.
      broken = true;
      throw err;
    }
    return result instanceof Rollback ? result.value : result;
  } finally {
    client.release(broken);
  }
}
