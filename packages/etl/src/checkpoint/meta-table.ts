/**
 * Metadata tables the ETL creates itself (CREATE TABLE IF NOT EXISTS, so it
 * needs no migration outside its package): etl_row_quarantine and
 * etl_reconcile_content.
 *
 * Invariant: one creation per pool and table at a time. Two table runs of one
 * process used to issue the DDL concurrently, and Postgres' IF NOT EXISTS is
 * not safe against that: the loser fails with 23505 on pg_type. Another
 * process racing the same way is answered the same: the table exists.
 */
import type { Pool } from 'pg';
import { pgExec } from '@tidemark/core';

const created = new WeakMap<Pool, Map<string, Promise<void>>>();

/** Whether this process created (or found) `name` on `meta` already. */
export function metaTableKnown(meta: Pool, name: string): boolean {
  return created.get(meta)?.has(name) === true;
}

export function ensureMetaTable(meta: Pool, name: string, ddl: string): Promise<void> {
  let byName = created.get(meta);
  if (!byName) created.set(meta, (byName = new Map()));
  const known = byName.get(name);
  if (known) return known;
  const p = pgExec(meta, ddl).then(
    () => undefined,
    (err: unknown) => {
      // A concurrent CREATE in another session won the race: the table is there.
      if (typeof err === 'object' && err !== null && 'code' in err && err.code === '23505') return;
      byName.delete(name);
      throw err;
    },
  );
  byName.set(name, p);
  return p;
}
