/**
 * Initial (and full-mode) snapshots: the table is split into primary-key
 * ranges, each range is streamed by COPY into ClickHouse in bounded blocks,
 * and each range is checkpointed once all its blocks are confirmed. An
 * interrupted snapshot resumes with the ranges not yet done.
 *
 * Versions: every row of one snapshot carries the same version, fixed when
 * the snapshot starts and stored with its plan (cursor/full: the snapshot's
 * xmax; cdc: the safe LSN of source/lsn.ts). Ranges read later — in parallel,
 * or after a restart — may see newer rows than that version says; that is
 * safe because everything that changed after the snapshot started is read
 * again with a higher version (by the cursor from the saved horizon, or by
 * the CDC stream from the safe LSN), and deletes are caught by the stream or
 * by reconciliation. A fixed version also makes a re-read range produce the
 * same blocks, so their dedup tokens match and ClickHouse drops the repeat.
 */
import type { PoolClient } from 'pg';
import { z } from 'zod';
import { pgMaybeOne, pgOne } from '@tidemark/core';
import { beginSnapshot, completeChunk, listChunks, requireTableState, type Chunk, type ChunkPlan, type TableState } from '../checkpoint/store';
import { Progress } from '../progress/progress';
import { readHorizon, type Horizon } from '../source/horizon';
import { safeSnapshotLsn } from '../source/lsn';
import { snapshotXmax, withRead } from '../source/session';
import { BindParams, SettingParams } from '../sql/bind';
import { copyAndLand } from './copy-land';
import type { SyncDeps } from './deps';
import { keyFromRow, keyOrder, keyTextList, keyTextRow, keyTuple, rangePredicate, valueTuple } from './keys';
import { landedColumns, landingColumns, selectList, type TablePlan } from './plan';
import { landOrQuarantine } from './quarantine';

const textValue = z.object({ v: z.string() });

/**
 * Chunk boundaries: every `chunkRows`-th key in key order, found by walking
 * the primary-key index (OFFSET over an index-only scan). The ranges cover
 * the whole key space — the first starts unbounded, the last ends unbounded
 * — so rows inserted later still fall into some range.
 */
export async function planChunks(client: PoolClient, plan: TablePlan, chunkRows: number): Promise<ChunkPlan[]> {
  const bounds: string[][] = [];
  let prev: string[] | null = null;
  for (;;) {
    const params = new BindParams();
    const where: string = prev ? `WHERE ${keyTuple(plan.key, 't')} >= ${valueTuple(plan.key, prev, params)}` : '';
    const sql = `SELECT ${keyTextList(plan.key, 't')} FROM ${plan.pgTable} AS t ${where} ORDER BY ${keyOrder(plan.key, 't')} OFFSET ${Number(chunkRows)} LIMIT 1`;
    const row = await pgMaybeOne(client, { name: 'etl.chunk_bound', sql, row: keyTextRow }, params.values);
    if (!row) break;
    const next = keyFromRow(plan.key, row);
    bounds.push(next);
    prev = next;
  }
  const chunks: ChunkPlan[] = [];
  for (let i = 0; i <= bounds.length; i++) chunks.push({ lo: bounds[i - 1] ?? null, hi: bounds[i] ?? null });
  return chunks;
}

/** The horizon as a value of the cursor column's own type (timestamp columns: in the configured zone). */
export async function horizonAsCursor(client: PoolClient, plan: TablePlan, at: string): Promise<string> {
  if (plan.cursor?.typeName === 'timestamp') {
    const zone = plan.cfg.cursor?.timeZone;
    const sql = zone
      ? `SELECT (($1::timestamptz) AT TIME ZONE $2)::text AS v`
      : `SELECT (($1::timestamptz) AT TIME ZONE (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'))::text AS v`;
    return (await pgOne(client, { name: 'etl.horizon_as_cursor', sql, row: textValue }, zone ? [at, zone] : [at])).v;
  }
  return (await pgOne(client, { name: 'etl.horizon_as_cursor', sql: `SELECT ($1::timestamptz)::text AS v`, row: textValue }, [at])).v;
}

/** Starts a new snapshot of the table's current generation: version, horizon, chunk plan. */
export async function startSnapshot(deps: SyncDeps, plan: TablePlan, state: TableState): Promise<TableState> {
  const { sourcePool, meta } = deps;
  let version: string;
  let horizon: Horizon | null = null;
  if (plan.cfg.mode === 'cdc') {
    version = (await safeSnapshotLsn(sourcePool)).version;
  } else if (plan.cfg.mode === 'cursor') {
    // The horizon is read before any snapshot is taken (source/horizon.ts).
    horizon = await readHorizon(sourcePool);
    version = await withRead(sourcePool, snapshotXmax);
  } else {
    // full: every commit before the snapshot's start is in it; that start is the run's watermark.
    const r = await withRead(sourcePool, async (c) => ({
      v: await snapshotXmax(c),
      now: (await pgOne(c, { name: 'etl.source_now', sql: `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US"+00"') AS v`, row: textValue }))
        .v,
    }));
    version = r.v;
    horizon = { at: r.now, now: r.now, behindSeconds: 0, oldest: null };
  }
  const chunks = await withRead(sourcePool, (c) => planChunks(c, plan, plan.cfg.chunkRows));
  await beginSnapshot(meta, plan.cfg.key, state.generation, {
    version,
    horizon: horizon?.at ?? null,
    mode: plan.cfg.mode,
    columns: landedColumns(plan),
    chunks,
  });
  deps.logger.info({ table: plan.cfg.key, chunks: chunks.length, version, horizon: horizon?.at }, 'snapshot planned');
  return requireTableState(meta, plan.cfg.key);
}

async function landChunk(deps: SyncDeps, plan: TablePlan, state: TableState, chunk: Chunk, progress: Progress): Promise<number> {
  const key = plan.cfg.key;
  await deps.hooks?.beforeChunk?.({ table: key, chunkNo: chunk.chunkNo });
  const rows = await withRead(deps.sourcePool, async (client) => {
    const params = new SettingParams();
    const where = rangePredicate(plan.key, 't', chunk.lo, chunk.hi, params);
    const version = params.ref(state.snapshotVersion as string, 'numeric');
    const project = params.ref(plan.cfg.project);
    await params.apply(client);
    // Rows that cannot land go to the row quarantine (same snapshot) and are skipped (landOrQuarantine).
    return landOrQuarantine(deps, plan, client, `FROM ${plan.pgTable} AS t WHERE ${where}`, async (filter) => {
      // ORDER BY the key: the same rows always come in the same order, so the blocks (and tokens) repeat exactly.
      const sql = `COPY (SELECT ${selectList(plan, 't', version, project)} FROM ${plan.pgTable} AS t WHERE ${where}${filter} ORDER BY ${keyOrder(plan.key, 't')}) TO STDOUT`;
      return copyAndLand(deps, client, sql, {
        tableKey: key,
        table: plan.targetTable,
        columns: landingColumns(plan),
        identity: `${key}:g${state.generation}:v${state.snapshotVersion}:chunk:${chunk.chunkNo}:block`,
        kind: 'chunk',
        bulk: { progress, signal: deps.signal, chunkNo: chunk.chunkNo },
      });
    });
  });
  // Only now, with every block of the range confirmed by ClickHouse.
  await completeChunk(deps.meta, key, state.generation, chunk.chunkNo, rows);
  progress.chunkDone();
  return rows;
}

/**
 * Lands every pending chunk, `parallelism` at a time. The first failure
 * stops the others from starting new chunks and is rethrown; chunks already
 * landed stay checkpointed, so the next run continues from there.
 */
export async function runChunks(deps: SyncDeps, plan: TablePlan, state: TableState): Promise<{ rows: number; chunks: number }> {
  const all = await listChunks(deps.meta, plan.cfg.key, state.generation);
  const pending = all.filter((c) => c.status === 'pending');
  const progress = new Progress(
    {
      table: plan.cfg.key,
      phase: plan.cfg.mode === 'full' ? 'full' : 'snapshot',
      // reltuples is 0 before the first ANALYZE; the chunk plan bounds it from below.
      totalRows: Math.max(plan.source.estimatedRows, (all.length - 1) * plan.cfg.chunkRows, state.snapshotRows),
      chunksTotal: all.length,
      alreadyDone: state.snapshotRows,
      chunksAlreadyDone: all.length - pending.length,
    },
    deps.onProgress,
  );
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < pending.length) {
      // Shutting down: no new chunk starts; the landed ones are checkpointed and the rest resume later.
      if (deps.signal?.aborted) {
        failed = new Error('snapshot interrupted by shutdown; it resumes with the chunks not yet landed');
        break;
      }
      const chunk = pending[next++] as Chunk;
      try {
        await landChunk(deps, plan, state, chunk, progress);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  const n = Math.max(1, Math.min(plan.cfg.parallelism, pending.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failed !== undefined) throw failed;
  progress.finish();
  return { rows: progress.count, chunks: pending.length };
}
