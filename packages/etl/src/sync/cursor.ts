/**
 * Incremental cursor mode: keyset paging on (cursor column, primary key),
 * needing nothing on the source but SELECT.
 *
 * Traps and how each is handled:
 * - Late commits with an earlier updated_at: reads stop below the horizon
 *   (source/horizon.ts), the start of the oldest transaction still open, so
 *   the cursor never passes a transaction in flight.
 * - Many rows sharing one timestamp at a page boundary: the position is the
 *   pair (cursor, key) and pages continue with (cursor, key) > position, so
 *   no row of a tie is skipped or read twice.
 * - Microsecond-distinct timestamps: positions are the column's own text
 *   (`::text`, six fractional digits) and are cast back in SQL; no JS Date
 *   ever holds a cursor.
 * - Application-clock timestamps that run late: each run re-reads `overlap`
 *   before the saved position (harmless: the re-landed rows collapse).
 * - One snapshot per page: the page's last key, its rows and its version
 *   (the snapshot's xmax) come from one REPEATABLE READ transaction.
 * - Deletes are invisible to a cursor: reconciliation finds them (reconcile.ts).
 */
import type { PoolClient } from 'pg';
import { z } from 'zod';
import { pgMaybeOne } from '@tidemark/core';
import { advanceCursor, recordSuccess, type TableState } from '../checkpoint/store';
import { classifySourceError } from '../errors';
import { Progress } from '../progress/progress';
import { readHorizon } from '../source/horizon';
import { snapshotXmax, withRead } from '../source/session';
import { BindParams, SettingParams, type ParamSink } from '../sql/bind';
import { pgIdent } from '../sql/quote';
import { copyAndLand } from './copy-land';
import type { SyncDeps } from './deps';
import { keyFromRow } from './keys';
import { horizonAsCursor } from './snapshot';
import { landingColumns, selectList, type TablePlan } from './plan';
import { landOrQuarantine } from './quarantine';

/** A keyset position: rows up to (value, key) are landed; key null = every row with cursor < value. */
export interface Position {
  value: string;
  key: string[] | null;
}

function cursorRef(plan: TablePlan, alias: string): string {
  return `${alias}.${pgIdent(plan.cursor?.name as string)}`;
}

function cursorCast(plan: TablePlan): string {
  return plan.cursor?.castSql as string;
}

function tupleOf(plan: TablePlan, alias: string): string {
  return `(${[cursorRef(plan, alias), ...plan.key.map((k) => `${alias}.${pgIdent(k.name)}`)].join(', ')})`;
}

function valuesOf(plan: TablePlan, pos: { value: string; key: string[] }, params: ParamSink): string {
  return `(${[params.ref(pos.value, cursorCast(plan)), ...plan.key.map((k, i) => params.ref((pos.key as string[])[i] as string, k.source.castSql))].join(', ')})`;
}

/** Rows strictly after `pos` (or, with an overlap, from `overlapMs` before it). */
function afterPredicate(plan: TablePlan, pos: Position, overlapMs: number, params: ParamSink): string {
  const c = cursorRef(plan, 't');
  if (overlapMs > 0) return `${c} >= ${params.ref(pos.value, cursorCast(plan))} - ${params.ref(`${overlapMs} milliseconds`, 'interval')}`;
  if (pos.key === null) return `${c} >= ${params.ref(pos.value, cursorCast(plan))}`;
  return `${tupleOf(plan, 't')} > ${valuesOf(plan, { value: pos.value, key: pos.key }, params)}`;
}

// The page's last row: the cursor value and the key (k0, ...), all as text. A cursor column is
// NOT NULL in every row a page reads (the predicate compares it), so c is never NULL.
const pageEndRow = z.object({ c: z.string() }).catchall(z.string());

/** Is `b` strictly ahead of `a`? Decided by Postgres in the column's type. */
async function isAhead(client: PoolClient, plan: TablePlan, a: Position, b: Position): Promise<boolean> {
  const p = new BindParams();
  const av = p.ref(a.value, cursorCast(plan));
  const bv = p.ref(b.value, cursorCast(plan));
  let sql = `SELECT ${bv} > ${av} AS ahead`;
  if (a.key !== null && b.key !== null) {
    const at = `(${plan.key.map((k, i) => p.ref((a.key as string[])[i] as string, k.source.castSql)).join(', ')})`;
    const bt = `(${plan.key.map((k, i) => p.ref((b.key as string[])[i] as string, k.source.castSql)).join(', ')})`;
    sql = `SELECT ${bv} > ${av} OR (${bv} = ${av} AND ROW${bt} > ROW${at}) AS ahead`;
  } else if (a.key === null && b.key !== null) {
    // (v, null) is before every row with cursor v.
    sql = `SELECT ${bv} >= ${av} AS ahead`;
  }
  const row = await pgMaybeOne(client, { name: 'etl.cursor_ahead', sql, row: z.object({ ahead: z.boolean().nullable() }) }, p.values);
  return row?.ahead === true;
}

interface PageResult {
  rows: number;
  /** Where the page ended; null when it reached the bound. */
  end: Position | null;
  /** The bound as a value of the cursor column's type. */
  bound: string;
  /** Whether the checkpoint should move to the page's end (it may still be inside the overlap window). */
  advances: boolean;
}

async function readPage(
  deps: SyncDeps,
  plan: TablePlan,
  state: TableState,
  start: Position,
  overlapMs: number,
  saved: Position | null,
  horizonAt: string,
  progress: Progress,
): Promise<PageResult> {
  const key = plan.cfg.key;
  return withRead(deps.sourcePool, async (client) => {
    // First statement of the transaction: the snapshot every later statement of this page sees.
    const version = await snapshotXmax(client);
    const bound = await horizonAsCursor(client, plan, horizonAt);
    const c = cursorRef(plan, 't');
    const order = `${c}, ${plan.key.map((k) => `t.${pgIdent(k.name)}`).join(', ')}`;

    // The page's last row (its end position), in this snapshot.
    const q = new BindParams();
    const endSql = `SELECT (${c})::text AS c, ${plan.key.map((k, i) => `(t.${pgIdent(k.name)})::text AS k${i}`).join(', ')}
      FROM ${plan.pgTable} AS t WHERE ${afterPredicate(plan, start, overlapMs, q)} AND ${c} < ${q.ref(bound, cursorCast(plan))}
      ORDER BY ${order} OFFSET ${plan.cfg.pageRows - 1} LIMIT 1`;
    const endRow = await pgMaybeOne(client, { name: 'etl.page_end', sql: endSql, row: pageEndRow }, q.values);
    const end: { value: string; key: string[] } | null = endRow ? { value: endRow.c, key: keyFromRow(plan.key, endRow) } : null;

    const s = new SettingParams();
    const upper = end ? `${tupleOf(plan, 't')} <= ${valuesOf(plan, end, s)}` : `${c} < ${s.ref(bound, cursorCast(plan))}`;
    const where = `${afterPredicate(plan, start, overlapMs, s)} AND ${upper}`;
    const v = s.ref(version, 'numeric');
    const project = s.ref(plan.cfg.project);
    await s.apply(client);
    const endLabel = end ? `${end.value}|${(end.key ?? []).join('|')}` : `<${bound}`;
    const rows = await landOrQuarantine(deps, plan, client, `FROM ${plan.pgTable} AS t WHERE ${where}`, async (filter) => {
      const sql = `COPY (SELECT ${selectList(plan, 't', v, project)} FROM ${plan.pgTable} AS t WHERE ${where}${filter} ORDER BY ${order}) TO STDOUT`;
      return copyAndLand(deps, client, sql, {
        tableKey: key,
        table: plan.targetTable,
        columns: landingColumns(plan),
        identity: `${key}:g${state.generation}:page:${start.value}|${(start.key ?? []).join('|')}|${overlapMs}:${endLabel}:v${version}:block`,
        kind: 'page',
        bulk: { progress, signal: deps.signal },
      });
    });
    const target: Position = end ?? { value: bound, key: null };
    const advances = saved === null ? true : await isAhead(client, plan, saved, target);
    return { rows, end, bound, advances };
  });
}

/**
 * One incremental run: from the saved position up to the horizon, page by
 * page, each page landed then checkpointed.
 */
export async function runCursor(deps: SyncDeps, plan: TablePlan, state: TableState): Promise<{ rows: number; lagSeconds: number; watermark: string }> {
  const key = plan.cfg.key;
  const t0 = Date.now();
  const horizon = await readHorizon(deps.sourcePool);
  if (horizon.oldest && horizon.behindSeconds > 60) {
    deps.logger.warn({ table: key, oldest: horizon.oldest, behindSeconds: horizon.behindSeconds }, 'an old open transaction holds the cursor back');
  }
  let saved: Position | null = state.cursorValue === null ? null : { value: state.cursorValue, key: state.cursorKey };
  if (saved === null) throw classifySourceError(new Error(`${key}: incremental run without a cursor position`), key);
  let start: Position = saved;
  let overlapMs = plan.cfg.cursor?.overlapMs ?? 0;
  const progress = new Progress({ table: key, phase: 'incremental', totalRows: 0 }, deps.onProgress, 5_000);
  let rows = 0;
  for (;;) {
    const page = await readPage(deps, plan, state, start, overlapMs, saved, horizon.at, progress);
    rows += page.rows;
    const next: Position = page.end ?? { value: page.bound, key: null };
    if (page.advances) {
      await advanceCursor(deps.meta, key, state.generation, { value: saved.value, key: saved.key }, { value: next.value, key: next.key }, page.rows);
      saved = next;
    }
    if (page.end === null) break;
    start = page.end;
    overlapMs = 0;
  }
  if (rows > 0) progress.finish();
  const lagSeconds = horizon.behindSeconds + (Date.now() - t0) / 1000;
  await recordSuccess(deps.meta, key, state.generation, { watermark: horizon.at, lagSeconds });
  return { rows, lagSeconds, watermark: horizon.at };
}
