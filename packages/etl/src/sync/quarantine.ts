/**
 * Per-row quarantine: a row whose value cannot land exactly (a numeric that
 * does not fit its Decimal, a date outside Date32, ...) is kept out of
 * ClickHouse and recorded here — table, key, reason — instead of failing the
 * read of its whole chunk or page. The rest of the table keeps syncing.
 *
 * Where: the metadata Postgres, table etl_row_quarantine (created here, IF
 * NOT EXISTS, so the ETL needs no migration outside its package; PGlite runs
 * it too).
 *
 * Retry: every table run re-reads the quarantined keys of its table
 * (recheckQuarantine). A row that now lands (its source row was fixed, or the
 * type override changed) is landed with the run's snapshot version and
 * released; a row gone from the source is released (its delete is the
 * cursor's/reconciliation's/the stream's business); a row still bad keeps its
 * entry with the new reason. So a row is retried as soon as its source row
 * changes, at the latest one schedule interval later.
 *
 * Reading it: listQuarantinedRows / quarantineSummary are the narrow interface
 * for the API and the dashboard (exported from the package).
 */
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { pgExec, pgOne, pgRows } from '@tidemark/core';
import { ensureMetaTable, metaTableKnown } from '../checkpoint/meta-table';
import type { TableState } from '../checkpoint/store';
import { EtlDataError } from '../errors';
import { safeSnapshotLsn } from '../source/lsn';
import { snapshotXmax, withRead } from '../source/session';
import { SettingParams } from '../sql/bind';
import { copyAndLand } from './copy-land';
import type { SyncDeps } from './deps';
import { keysJoin, keysTable, keyTextList } from './keys';
import { landableFilter, landingColumns, rowProblemSql, selectList, type TablePlan } from './plan';

/** Rows recorded per read at most: the read is bounded in memory even when a whole column is bad. */
const MAX_PER_READ = 10_000;
/** Keys rechecked per run at most. */
const MAX_RECHECK = 5_000;

const DDL = `CREATE TABLE IF NOT EXISTS etl_row_quarantine (
  table_key text NOT NULL,
  row_key text NOT NULL,
  key_values text[] NOT NULL,
  reason text NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 1,
  PRIMARY KEY (table_key, row_key)
)`;

const existsQuery = {
  name: 'etl.quarantine_exists',
  sql: `SELECT to_regclass('etl_row_quarantine') IS NOT NULL AS present`,
  row: z.object({ present: z.boolean() }),
};

/** Readers (the API's pool) never create the table: none yet means no row was ever quarantined. */
async function quarantineExists(meta: Pool): Promise<boolean> {
  if (metaTableKnown(meta, 'etl_row_quarantine')) return true;
  return (await pgOne(meta, existsQuery)).present;
}

/** Creates etl_row_quarantine when missing (once per pool and process). */
export async function ensureQuarantineSchema(meta: Pool): Promise<void> {
  await ensureMetaTable(meta, 'etl_row_quarantine', DDL);
}

const problemRow = z.object({ reason: z.string() }).catchall(z.string().nullable());

/**
 * Records the rows of `fromWhere` (SQL text `FROM ... AS t [JOIN ...] WHERE ...`,
 * its values already applied as SettingParams on `client`) that cannot land.
 * Runs in the caller's read transaction, so it sees exactly the rows the
 * landing read skips (landableFilter). Returns how many were found.
 */
export async function collectProblemRows(deps: Pick<SyncDeps, 'meta' | 'logger'>, plan: TablePlan, client: PoolClient, fromWhere: string): Promise<number> {
  const problem = rowProblemSql(plan, 't');
  if (problem === null) return 0;
  const rows = await pgRows(client, {
    name: 'etl.problem_rows',
    sql: `SELECT ${keyTextList(plan.key, 't')}, ${problem} AS reason ${fromWhere} AND (${problem}) IS NOT NULL LIMIT ${MAX_PER_READ}`,
    row: problemRow,
  });
  if (rows.length === 0) return 0;
  const found = rows.map((row) => {
    const key = plan.key.map((_k, i) => row[`k${i}`] ?? '');
    return { key, reason: `${plan.cfg.key}: row (${plan.key.map((k) => k.name).join(', ')}) = (${key.join(', ')}): ${row.reason}` };
  });
  await recordRows(deps.meta, plan.cfg.key, found);
  deps.logger.warn(
    { table: plan.cfg.key, rows: found.length, first: found[0]?.reason },
    'rows that cannot land were quarantined; the rest of the table keeps syncing',
  );
  return found.length;
}

/**
 * Bulk reads (snapshot chunks, cursor pages) land optimistically: the read
 * runs unfiltered behind a savepoint, so a table without bad values pays
 * nothing (no pre-scan, no filter evaluated per row). Only when a guard fails
 * the read (EtlDataError) is the savepoint rolled back — the snapshot and the
 * bound settings stay — the bad rows recorded, and the read run again with
 * the landable filter. Blocks landed by the failed attempt are re-landed with
 * the same version and collapse.
 */
export async function landOrQuarantine<T>(
  deps: Pick<SyncDeps, 'meta' | 'logger'>,
  plan: TablePlan,
  client: PoolClient,
  fromWhere: string,
  land: (filter: string) => Promise<T>,
): Promise<T> {
  if (rowProblemSql(plan, 't') === null) return land('');
  await client.query('SAVEPOINT tidemark_rows');
  try {
    const result = await land('');
    await client.query('RELEASE SAVEPOINT tidemark_rows');
    return result;
  } catch (err) {
    if (!(err instanceof EtlDataError)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT tidemark_rows');
    await collectProblemRows(deps, plan, client, fromWhere);
    return land(landableFilter(plan, 't'));
  }
}

async function recordRows(meta: Pool, table: string, rows: { key: string[]; reason: string }[]): Promise<void> {
  await ensureQuarantineSchema(meta);
  await pgExec(
    meta,
    `INSERT INTO etl_row_quarantine (table_key, row_key, key_values, reason)
     SELECT $1, x.row_key, ARRAY(SELECT jsonb_array_elements_text(x.key_values)), x.reason
       FROM jsonb_to_recordset($2::jsonb) AS x(row_key text, key_values jsonb, reason text)
     ON CONFLICT (table_key, row_key) DO UPDATE
        SET reason = EXCLUDED.reason, last_seen_at = now(), attempts = etl_row_quarantine.attempts + 1`,
    [table, JSON.stringify(rows.map((r) => ({ row_key: JSON.stringify(r.key), key_values: r.key, reason: r.reason })))],
  );
}

const quarantinedRow = z.object({
  table_key: z.string(),
  key_values: z.array(z.string()),
  reason: z.string(),
  first_seen_at: z.date(),
  last_seen_at: z.date(),
  attempts: z.coerce.number(),
});

export interface QuarantinedRow {
  table: string;
  /** Primary-key values as Postgres text, in key order. */
  key: string[];
  reason: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** Reads that found the row unlandable. */
  attempts: number;
}

/**
 * Quarantined rows, newest first (the API's / dashboard's list). `project`
 * keeps only tables whose rows belong to that project (etl_tables.project):
 * the API passes its caller's project, as getSyncStatus does.
 */
export async function listQuarantinedRows(meta: Pool, opts: { table?: string; project?: string; limit?: number } = {}): Promise<QuarantinedRow[]> {
  if (!(await quarantineExists(meta))) return [];
  const limit = Math.max(1, Math.min(opts.limit ?? 100, 10_000));
  const rows = await pgRows(
    meta,
    {
      name: 'etl.quarantined_rows',
      row: quarantinedRow,
      sql: `SELECT q.table_key, q.key_values, q.reason, q.first_seen_at, q.last_seen_at, q.attempts FROM etl_row_quarantine q
      WHERE ($1::text IS NULL OR q.table_key = $1)
        AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM etl_tables t WHERE t.table_key = q.table_key AND t.project = $3))
      ORDER BY q.last_seen_at DESC, q.row_key LIMIT $2`,
    },
    [opts.table ?? null, limit, opts.project ?? null],
  );
  return rows.map((q) => {
    return { table: q.table_key, key: q.key_values, reason: q.reason, firstSeenAt: q.first_seen_at, lastSeenAt: q.last_seen_at, attempts: q.attempts };
  });
}

const countRow = z.object({ table_key: z.string(), n: z.coerce.number(), oldest: z.date() });

/** Per table: how many rows are quarantined and since when (status, metrics). */
export async function quarantineSummary(meta: Pool): Promise<Map<string, { rows: number; oldest: Date }>> {
  if (!(await quarantineExists(meta))) return new Map();
  const rows = await pgRows(meta, {
    name: 'etl.quarantine_summary',
    sql: `SELECT table_key, count(*)::int8 AS n, min(first_seen_at) AS oldest FROM etl_row_quarantine GROUP BY table_key`,
    row: countRow,
  });
  return new Map(rows.map((r) => [r.table_key, { rows: r.n, oldest: r.oldest }]));
}

/** Forgets a table's quarantined rows (resync: the new snapshot finds them again). */
export async function clearQuarantine(meta: Pool, table: string): Promise<void> {
  await ensureQuarantineSchema(meta);
  await pgExec(meta, `DELETE FROM etl_row_quarantine WHERE table_key = $1`, [table]);
}

const keyRow = z.object({ row_key: z.string(), key_values: z.array(z.string()) });
const stillBadRow = z.object({ row_key: z.string(), reason: z.string() });
const presentRow = z.object({ i: z.coerce.number(), reason: z.string().nullable() });

/**
 * Retries a table's quarantined rows in one read snapshot: rows that now land
 * are landed (version = this snapshot's, as reconciliation repairs) and
 * released, rows gone from the source are released, rows still bad keep
 * their entry (reason refreshed).
 */
export async function recheckQuarantine(deps: SyncDeps, plan: TablePlan, state: TableState): Promise<{ landed: number; released: number; remaining: number }> {
  const table = plan.cfg.key;
  await ensureQuarantineSchema(deps.meta);
  const rows = await pgRows(
    deps.meta,
    {
      name: 'etl.quarantine_keys',
      sql: `SELECT row_key, key_values FROM etl_row_quarantine WHERE table_key = $1 ORDER BY row_key LIMIT ${MAX_RECHECK}`,
      row: keyRow,
    },
    [table],
  );
  const entries = rows.filter((e) => e.key_values.length === plan.key.length);
  if (entries.length === 0) return { landed: 0, released: 0, remaining: 0 };
  const lsnVersion = plan.cfg.mode === 'cdc' ? (await safeSnapshotLsn(deps.sourcePool)).version : null;
  const problem = rowProblemSql(plan, 't');
  const result = await withRead(deps.sourcePool, async (client) => {
    const version = lsnVersion ?? (await snapshotXmax(client));
    const s = new SettingParams('q');
    const keys = keysTable(
      plan.key,
      entries.map((e, i) => [...e.key_values, String(i)]),
      s,
      'k',
      ['_i'],
    );
    const v = s.ref(version, 'numeric');
    const project = s.ref(plan.cfg.project);
    await s.apply(client);
    const from = `FROM ${plan.pgTable} AS t JOIN ${keys} ON ${keysJoin(plan.key, 't', 'k')}`;
    // Which entries still have a source row, and which of those are still bad.
    const present = await pgRows(client, {
      name: 'etl.quarantine_present',
      sql: `SELECT (k."_i")::int AS i${problem ? `, ${problem} AS reason` : `, NULL::text AS reason`} ${from}`,
      row: presentRow,
    });
    const stillBad: { row_key: string; reason: string }[] = [];
    const seen = new Set<number>();
    for (const row of present) {
      seen.add(row.i);
      const e = entries[row.i];
      if (e && row.reason !== null)
        stillBad.push(
          stillBadRow.parse({
            row_key: e.row_key,
            reason: `${table}: row (${plan.key.map((k) => k.name).join(', ')}) = (${e.key_values.join(', ')}): ${row.reason}`,
          }),
        );
    }
    const sql = `COPY (SELECT ${selectList(plan, 't', v, project)} ${from} WHERE true${landableFilter(plan, 't')} ORDER BY k."_i") TO STDOUT`;
    const landed = await copyAndLand(deps, client, sql, {
      tableKey: table,
      table: plan.targetTable,
      columns: landingColumns(plan),
      identity: `${table}:g${state.generation}:quarantine:v${version}:${entries.length}`,
      kind: 'repair',
    });
    return { landed, stillBad, gone: entries.length - seen.size };
  });
  const bad = new Set(result.stillBad.map((b) => b.row_key));
  const release = entries.filter((e) => !bad.has(e.row_key)).map((e) => e.row_key);
  if (release.length > 0) await pgExec(deps.meta, `DELETE FROM etl_row_quarantine WHERE table_key = $1 AND row_key = ANY($2::text[])`, [table, release]);
  if (result.stillBad.length > 0) {
    await pgExec(
      deps.meta,
      `UPDATE etl_row_quarantine q SET reason = x.reason, last_seen_at = now(), attempts = q.attempts + 1
         FROM jsonb_to_recordset($2::jsonb) AS x(row_key text, reason text) WHERE q.table_key = $1 AND q.row_key = x.row_key`,
      [table, JSON.stringify(result.stillBad)],
    );
  }
  if (release.length > 0) deps.logger.info({ table, landed: result.landed, released: release.length, gone: result.gone }, 'quarantined rows released');
  return { landed: result.landed, released: release.length, remaining: result.stillBad.length };
}
