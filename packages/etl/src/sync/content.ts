/**
 * Content reconciliation: finds rows whose content differs between the
 * source and ClickHouse even though both hold the key — an update stamped
 * further back than the cursor overlap, a delete and re-insert with an old
 * stamp, an UPDATE that did not move the cursor — and re-lands them.
 *
 * How (as data-diff tools do, without moving the table):
 * 1. Every landed row carries _row_hash, the source row's content hash
 *    computed by Postgres at landing (plan.ts rowHashSql).
 * 2. Both sides are cut into RANGES ranges of the key space by the first
 *    three hex digits of md5(key text) and each side computes, per range,
 *    count and sum of row hashes mod 2^64 — inside the databases, so only
 *    RANGES small rows travel.
 * 3. Ranges whose (count, sum) differ are bisected: cut into 16 or 256 sub-ranges
 *    each (about 16 rows per sub-range), compared the same way; differing ones are
 *    opened and their (key, hash) pairs compared row by row, BATCH sub-ranges
 *    at a time, and every source row whose hash differs or is missing
 *    is re-landed with the reconciliation snapshot's version (newer than any
 *    landed copy, older than any later change), at most maxRepair per run.
 *
 * The JS side only handles the ranges and the opened ranges' keys, and
 * yields to the event loop between batches, so a reconciliation of any size
 * never blocks the process.
 *
 * Limits: the key's text must print the same in both engines (int, text,
 * uuid, time, bool, bytea keys do); Decimal keys fall back to key-only
 * reconciliation. Quarantined rows (sync/quarantine.ts) are left out of the
 * source side; their stale copies, if any, count as differences.
 */
import type { Pool, PoolClient } from 'pg';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { z } from 'zod';
import { pgExec, pgOne, pgRows } from '@tidemark/core';
import { ensureMetaTable } from '../checkpoint/meta-table';
import type { TableState } from '../checkpoint/store';
import { classifySourceError } from '../errors';
import { chIdent, pgIdent } from '../sql/quote';
import { qualifiedTarget } from '../target/ddl';
import { pgKeyText, type KeyKind } from '../target/types';
import type { SyncDeps } from './deps';
import { relandKeys } from './copy-land';
import { keyTextList } from './keys';
import { landableFilter, rowHashSql, type TablePlan } from './plan';

/** Ranges of the first level: 16^3. */
const RANGES = 4096;
/** Differing sub-ranges opened per round trip (each pass scans the source once). */
const BATCH = 20_000;

export interface ContentResult {
  /** Ranges compared by (count, hash sum). */
  ranges: number;
  /** Ranges whose count or hash sum differed. */
  differingRanges: number;
  /** Source rows compared by content (through the range sums). */
  rowsCompared: number;
  /** Source rows whose content (or presence) differed in ClickHouse. */
  changed: number;
  /** Rows re-landed. */
  repaired: number;
  /** Differences left for the next run (over maxRepair). */
  remaining: number;
  /** Why content was not compared, when it was not. */
  skipped?: string;
  seconds: number;
}

function pgKeyTextExpr(plan: TablePlan, kinds: KeyKind[]): string {
  const parts = plan.key.map((k, i) => pgKeyText(k, kinds[i] as KeyKind, `t.${pgIdent(k.name)}`));
  return parts.length === 1 ? (parts[0] as string) : `concat_ws(chr(9), ${parts.join(', ')})`;
}

function chKeyTextExpr(plan: TablePlan): string {
  const parts = plan.key.map((k) => `toString(${chIdent(k.name)})`);
  return parts.length === 1 ? (parts[0] as string) : `arrayStringConcat([${parts.join(', ')}], '\\t')`;
}

const rangeRow = z.object({ b: z.string(), n: z.coerce.number(), h: z.string() });
const chRowKey = z.object({ kt: z.string(), h: z.string() });

/** Compares and repairs by content, in the caller's read transaction (`client`), landing with `version`. */
export async function reconcileContent(
  deps: SyncDeps,
  plan: TablePlan,
  state: TableState,
  client: PoolClient,
  version: string,
  opts: { maxRepair: number },
): Promise<ContentResult> {
  const t0 = Date.now();
  const key = plan.cfg.key;
  const kinds = plan.keyKinds;
  const empty = { ranges: 0, differingRanges: 0, rowsCompared: 0, changed: 0, repaired: 0, remaining: 0 };
  if (typeof kinds === 'string') return { ...empty, skipped: kinds, seconds: 0 };
  if (kinds.includes('decimal')) return { ...empty, skipped: 'a Decimal key prints differently in Postgres and ClickHouse; keys only', seconds: 0 };
  const pgKt = pgKeyTextExpr(plan, kinds);
  const chKt = chKeyTextExpr(plan);
  const target = qualifiedTarget(deps.ch, plan.targetTable);
  const landable = landableFilter(plan, 't');
  const hash = rowHashSql(plan, 't');

  // Level 1: per-range count and hash sum on both sides.
  const pgRanges = new Map<string, { n: number; h: string }>();
  try {
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT substr(md5(${pgKt}), 1, 3) AS b, count(*)::int8 AS n, (sum(${hash}) % 18446744073709551616)::text AS h FROM ${plan.pgTable} AS t WHERE true${landable} GROUP BY 1`,
    );
    for (const r of rows) {
      const x = rangeRow.parse(r);
      pgRanges.set(x.b, { n: x.n, h: x.h });
    }
  } catch (err) {
    throw classifySourceError(err, key);
  }
  const chRangesQuery = deps.ch.query({
    name: 'etl.content_ranges',
    sql: `SELECT lower(substring(hex(MD5(${chKt})), 1, 3)) AS b, count() AS n, toString(sumWithOverflow(_row_hash)) AS h
            FROM ${target} FINAL WHERE is_deleted = 0 AND project_id = {project:String} GROUP BY b`,
    params: z.object({ project: z.string() }),
    row: rangeRow,
  });
  const chRanges = new Map((await chRangesQuery({ project: plan.cfg.project })).map((r) => [r.b, r]));
  const differing = [...new Set([...pgRanges.keys(), ...chRanges.keys()])]
    .filter((b) => {
      const p = pgRanges.get(b);
      const c = chRanges.get(b);
      return p?.n !== c?.n || p?.h !== c?.h;
    })
    .sort();
  let rowsCompared = 0;
  for (const p of pgRanges.values()) rowsCompared += p.n;

  // Level 2 (the bisection): the differing ranges cut into 16 or 256 sub-ranges each
  // (`digits` hex digits), compared the same way in one pass per side. Each pass
  // costs one scan of the source, so the number of passes is what matters: 3 in
  // all (ranges, sub-ranges, rows) whatever the number of differences.
  // Sub-range width: about 16 rows per sub-range (one more hex digit per 16x rows), so
  // neither pass moves more than ~16 rows per differing range. Small tables skip it.
  const perRange = rowsCompared / RANGES;
  const digits = 3 + Math.max(0, Math.min(2, Math.ceil(Math.log(Math.max(1, perRange / 16)) / Math.log(16))));
  let subDiffering: string[] = digits === 3 ? differing : [];
  if (differing.length > 0 && digits > 3) {
    await yieldLoop();
    const pgSub = new Map<string, { n: number; h: string }>();
    try {
      const { rows } = await client.query<Record<string, unknown>>(
        `SELECT substr(md5(${pgKt}), 1, ${digits}) AS b, count(*)::int8 AS n, (sum(${hash}) % 18446744073709551616)::text AS h
           FROM ${plan.pgTable} AS t WHERE substr(md5(${pgKt}), 1, 3) = ANY($1::text[])${landable} GROUP BY 1`,
        [differing],
      );
      let i = 0;
      for (const r of rows) {
        if (++i % 2_000 === 0) await yieldLoop();
        const x = rangeRow.parse(r);
        pgSub.set(x.b, { n: x.n, h: x.h });
      }
    } catch (err) {
      throw classifySourceError(err, key);
    }
    const chSub = new Map<string, { n: number; h: string }>();
    for await (const r of chRowsStreamed(
      deps,
      `SELECT lower(substring(hex(MD5(${chKt})), 1, ${digits})) AS b, count() AS n, toString(sumWithOverflow(_row_hash)) AS h
         FROM ${target} FINAL WHERE is_deleted = 0 AND project_id = {project:String} AND lower(substring(hex(MD5(${chKt})), 1, 3)) IN {ranges:Array(String)} GROUP BY b`,
      { project: plan.cfg.project, ranges: differing },
      rangeRow,
    )) {
      chSub.set(r.b, r);
    }
    subDiffering = [...new Set([...pgSub.keys(), ...chSub.keys()])]
      .filter((b) => {
        const p = pgSub.get(b);
        const c = chSub.get(b);
        return p?.n !== c?.n || p?.h !== c?.h;
      })
      .sort();
  }

  // Level 3: open the differing sub-ranges, BATCH at a time; re-land what differs.
  const chRowsSql = `SELECT ${chKt} AS kt, toString(_row_hash) AS h FROM ${target} FINAL
           WHERE is_deleted = 0 AND project_id = {project:String} AND lower(substring(hex(MD5(${chKt})), 1, ${digits})) IN {ranges:Array(String)}`;
  const pgRowKey = z.object({ kt: z.string(), h: z.string() }).catchall(z.string());
  let changed = 0;
  let repaired = 0;
  let remaining = 0;
  for (let i = 0; i < subDiffering.length; i += BATCH) {
    await yieldLoop();
    const ranges = subDiffering.slice(i, i + BATCH);
    const chHashes = new Map<string, string>();
    for await (const r of chRowsStreamed(deps, chRowsSql, { project: plan.cfg.project, ranges }, chRowKey)) chHashes.set(r.kt, r.h);
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT ${keyTextList(plan.key, 't')}, ${pgKt} AS kt, (${hash})::text AS h FROM ${plan.pgTable} AS t WHERE substr(md5(${pgKt}), 1, ${digits}) = ANY($1::text[])${landable}`,
      [ranges],
    );
    const redo: string[][] = [];
    let n = 0;
    for (const r of rows) {
      if (++n % 2_000 === 0) await yieldLoop();
      const x = pgRowKey.parse(r);
      if (chHashes.get(x.kt) === x.h) continue;
      changed++;
      if (repaired + redo.length < opts.maxRepair) redo.push(plan.key.map((_k, j) => x[`k${j}`] ?? ''));
      else remaining++;
    }
    if (redo.length > 0) repaired += await relandKeys(deps, plan, state, client, version, redo, `content:${i}`);
  }
  const result: ContentResult = {
    ranges: RANGES,
    differingRanges: differing.length,
    rowsCompared,
    changed,
    repaired,
    remaining,
    seconds: (Date.now() - t0) / 1000,
  };
  if (changed > 0) deps.logger.warn({ table: key, ...result }, 'content reconciliation found rows that differ; re-landed');
  return result;
}

/**
 * A ClickHouse query read row by row (JSONEachRow stream), each row checked
 * by its zod schema, yielding to the event loop every 2,000 rows: core's
 * ch.query parses the whole answer in one synchronous step, which for the
 * hundreds of thousands of rows a large reconciliation can read stalled the
 * process for seconds.
 */
async function* chRowsStreamed<T>(deps: SyncDeps, sql: string, params: Record<string, unknown>, row: z.ZodType<T>): AsyncGenerator<T> {
  const rs = await deps.ch.client.query({ query: sql, format: 'JSONEachRow', query_params: params });
  let n = 0;
  for await (const batch of rs.stream() as AsyncIterable<{ json(): unknown }[]>) {
    for (const r of batch) {
      if (++n % 2_000 === 0) await yieldLoop();
      yield row.parse(r.json());
    }
  }
}

const DDL = `CREATE TABLE IF NOT EXISTS etl_reconcile_content (
  table_key text PRIMARY KEY,
  at timestamptz NOT NULL,
  ranges integer NOT NULL,
  differing_ranges integer NOT NULL,
  rows_compared bigint NOT NULL,
  changed bigint NOT NULL,
  repaired bigint NOT NULL,
  remaining bigint NOT NULL,
  seconds double precision NOT NULL,
  skipped text,
  changed_total bigint NOT NULL DEFAULT 0,
  repaired_total bigint NOT NULL DEFAULT 0
)`;

/** Records a content reconciliation (last result, and running totals for the metrics). */
export async function recordContent(meta: Pool, table: string, r: ContentResult): Promise<void> {
  await ensureMetaTable(meta, 'etl_reconcile_content', DDL);
  await pgExec(
    meta,
    `INSERT INTO etl_reconcile_content (table_key, at, ranges, differing_ranges, rows_compared, changed, repaired, remaining, seconds, skipped, changed_total, repaired_total)
     VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9, $5, $6)
     ON CONFLICT (table_key) DO UPDATE SET at = now(), ranges = $2, differing_ranges = $3, rows_compared = $4, changed = $5, repaired = $6, remaining = $7, seconds = $8,
        skipped = $9, changed_total = etl_reconcile_content.changed_total + $5, repaired_total = etl_reconcile_content.repaired_total + $6`,
    [table, r.ranges, r.differingRanges, r.rowsCompared, r.changed, r.repaired, r.remaining, r.seconds, r.skipped ?? null],
  );
}

const contentRow = z.object({
  table_key: z.string(),
  at: z.date(),
  differing_ranges: z.coerce.number(),
  rows_compared: z.coerce.number(),
  changed: z.coerce.number(),
  repaired: z.coerce.number(),
  remaining: z.coerce.number(),
  seconds: z.coerce.number(),
  skipped: z.string().nullable(),
  changed_total: z.coerce.number(),
  repaired_total: z.coerce.number(),
});

export interface ContentStatus {
  at: string;
  rowsCompared: number;
  differingRanges: number;
  /** Rows found different at the last content reconciliation. */
  changed: number;
  repaired: number;
  /** Differences not repaired yet (over maxRepair; next run). */
  remaining: number;
  seconds: number;
  skipped: string | null;
  /** Since the table was first reconciled by content. */
  changedTotal: number;
  repairedTotal: number;
}

/** Last content reconciliation per table (status, metrics); empty before the first one. */
export async function contentStatus(meta: Pool): Promise<Map<string, ContentStatus>> {
  const { present } = await pgOne(meta, {
    name: 'etl.content_exists',
    sql: `SELECT to_regclass('etl_reconcile_content') IS NOT NULL AS present`,
    row: z.object({ present: z.boolean() }),
  });
  if (!present) return new Map();
  const rows = await pgRows(meta, { name: 'etl.content_status', sql: `SELECT * FROM etl_reconcile_content`, row: contentRow });
  return new Map(
    rows.map((x) => {
      return [
        x.table_key,
        {
          at: x.at.toISOString(),
          rowsCompared: x.rows_compared,
          differingRanges: x.differing_ranges,
          changed: x.changed,
          repaired: x.repaired,
          remaining: x.remaining,
          seconds: x.seconds,
          skipped: x.skipped,
          changedTotal: x.changed_total,
          repairedTotal: x.repaired_total,
        },
      ];
    }),
  );
}
