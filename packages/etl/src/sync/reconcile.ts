/**
 * Primary-key reconciliation: compares the set of live keys in the source
 * with the set of live keys in ClickHouse, both streamed in the same order
 * and merged, so memory holds only the differences (bounded by maxRepair).
 *
 * - A key in ClickHouse but not in the source was deleted (a hard delete a
 *   cursor cannot see, or the old key of a primary-key update): a tombstone
 *   (is_deleted = 1) is landed for it.
 * - A key in the source but not in ClickHouse was missed (a row whose
 *   cursor column is NULL or was set back in time, a delete-and-re-insert
 *   with an old timestamp): the row is read again and landed.
 *
 * Versions: repairs carry the version of the reconciliation's own snapshot
 * (cursor/full: its xmax; cdc: the safe LSN), which is newer than every row
 * already landed from an older snapshot and older than any later change —
 * so a repair can never overwrite a newer state.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { to as copyTo } from 'pg-copy-streams';
import { ClickHouseQueryError, ValidationError } from '@tidemark/core';
import { addRows, recordReconcile, type ReconcileRecord, type TableState } from '../checkpoint/store';
import { classifySourceError } from '../errors';
import { safeSnapshotLsn } from '../source/lsn';
import { snapshotXmax, withRead } from '../source/session';
import { chIdent, pgIdent } from '../sql/quote';
import { qualifiedTarget } from '../target/ddl';
import { landBlock, type Block } from '../target/land';
import { chKeyExpr, pgKeyOrder, pgKeyText, type KeyKind } from '../target/types';
import type { SyncDeps } from './deps';
import { compareKeys, splitTsvLine } from './keys';
import { tombstoneColumns, type TablePlan } from './plan';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { reconcileContent, recordContent, type ContentResult } from './content';
import { relandKeys } from './copy-land';

export interface ReconcileResult extends ReconcileRecord {
  table: string;
  version: string;
  /** Content comparison (sync/content.ts), after the key repair, in the same snapshot. */
  content?: ContentResult;
}

/** Lines of a byte stream (COPY output), decoded as UTF-8 (a character split across chunks stays whole). */
async function* lines(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of stream) {
    const text = carry + decoder.write(chunk);
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts) yield p;
  }
  const rest = carry + decoder.end();
  if (rest !== '') yield rest;
}

/**
 * The TabSeparated lines of a ClickHouse query, read from the raw HTTP body.
 * Why not `query().stream()`: the client wraps every row in an object with a
 * closure and a Buffer view; for the 1,000,000 keys of a reconciliation that
 * garbage cost 170 ms of GC inside one 384 ms event-loop stall (measured with
 * --cpu-prof, test/large-transaction.int.test.ts). Splitting decoded chunks
 * allocates only the line strings.
 *
 * A server error after the body started arrives as a `Code: N. DB::Exception`
 * line; it is raised, never merged as a key.
 */
export async function* chRawLines(ch: SyncDeps['ch'], sql: string, params: Record<string, unknown>): AsyncGenerator<string> {
  const { stream } = await ch.client.exec({ query: `${sql} FORMAT TabSeparated`, query_params: params });
  for await (const line of lines(stream as AsyncIterable<Buffer>)) {
    if (line.startsWith('Code: ') && line.includes('DB::Exception')) {
      // Retriable: the reconciliation runs again on its schedule.
      throw new ClickHouseQueryError(`ClickHouse failed while streaming keys: ${line.slice(0, 500)}`, true, 502, {
        context: { clickhouseCode: Number(/^Code: (\d+)/.exec(line)?.[1] ?? 0) },
      });
    }
    yield line;
  }
}

/** ClickHouse rows as raw TSV lines. */
export async function* chLines(stream: Readable): AsyncGenerator<string> {
  for await (const rows of stream as AsyncIterable<{ text: string }[]>) {
    for (const r of rows) yield r.text;
  }
}

interface Diff {
  sourceRows: number;
  targetRows: number;
  missing: string[][];
  missingCount: number;
  /** Raw ClickHouse TSV lines of keys to tombstone. */
  extra: string[];
  extraCount: number;
}

async function mergeKeys(kinds: KeyKind[], source: AsyncIterator<string>, target: AsyncIterator<string>, cap: number): Promise<Diff> {
  const d: Diff = { sourceRows: 0, targetRows: 0, missing: [], missingCount: 0, extra: [], extraCount: 0 };
  let s = await source.next();
  let t = await target.next();
  let sk = s.done ? null : splitTsvLine(s.value);
  let tk = t.done ? null : splitTsvLine(t.value);
  let steps = 0;
  while (sk !== null || tk !== null) {
    // Lines that are already buffered resolve as microtasks, which never let the event loop
    // run: a 1,000,000-key merge froze the process for seconds. Yield every 500 keys.
    if (++steps % 500 === 0) await yieldLoop();
    const c = sk === null ? 1 : tk === null ? -1 : compareKeys(kinds, sk, tk);
    if (c === 0) {
      d.sourceRows++;
      d.targetRows++;
    } else if (c < 0) {
      d.sourceRows++;
      d.missingCount++;
      if (d.missing.length < cap) d.missing.push(sk as string[]);
    } else {
      d.targetRows++;
      d.extraCount++;
      if (d.extra.length < cap) d.extra.push(t.value as string);
    }
    if (c <= 0) {
      s = await source.next();
      sk = s.done ? null : splitTsvLine(s.value);
    }
    if (c >= 0) {
      t = await target.next();
      tk = t.done ? null : splitTsvLine(t.value);
    }
  }
  return d;
}

/** Cuts TSV lines into blocks of at most `maxBytes`. */
export function* toBlocks(lines: string[], suffix: string, maxBytes: number, prefix = ''): Generator<Block> {
  let parts: string[] = [];
  let size = 0;
  for (const l of lines) {
    const line = `${prefix}${l}${suffix}\n`;
    if (size > 0 && size + line.length > maxBytes) {
      yield { data: Buffer.from(parts.join('')), rows: parts.length };
      parts = [];
      size = 0;
    }
    parts.push(line);
    size += line.length;
  }
  if (parts.length > 0) yield { data: Buffer.from(parts.join('')), rows: parts.length };
}

export async function reconcileTable(
  deps: SyncDeps,
  plan: TablePlan,
  state: TableState,
  opts: { repair: boolean; maxRepair: number },
): Promise<ReconcileResult> {
  const key = plan.cfg.key;
  if (typeof plan.keyKinds === 'string') throw new ValidationError(`${key}: ${plan.keyKinds}`, { context: { table: key } });
  const kinds = plan.keyKinds;
  // CDC versions are LSNs: take the safe one before the snapshot (source/lsn.ts).
  const lsnVersion = plan.cfg.mode === 'cdc' ? (await safeSnapshotLsn(deps.sourcePool)).version : null;

  const result = await withRead(deps.sourcePool, async (client) => {
    const xmax = await snapshotXmax(client);
    const version = lsnVersion ?? xmax;
    const pgSql = `COPY (SELECT ${plan.key.map((k, i) => pgKeyText(k, kinds[i] as KeyKind, `t.${pgIdent(k.name)}`)).join(', ')} FROM ${plan.pgTable} AS t ORDER BY ${plan.key
      .map((k, i) => pgKeyOrder(k, kinds[i] as KeyKind, `t.${pgIdent(k.name)}`))
      .join(', ')}) TO STDOUT`;
    const chKeys = plan.key.map((k, i) => chKeyExpr(kinds[i] as KeyKind, chIdent(k.name)));
    // This source's project only: other projects' rows in a shared target are not ours to judge.
    const chSql = `SELECT ${chKeys.join(', ')} FROM ${qualifiedTarget(deps.ch, plan.targetTable)} FINAL WHERE is_deleted = 0 AND project_id = {project:String} ORDER BY ${chKeys.join(', ')}`;
    let diff: Diff;
    try {
      const target = chRawLines(deps.ch, chSql, { project: plan.cfg.project });
      const pgStream = client.query(copyTo(pgSql));
      try {
        diff = await mergeKeys(kinds, lines(pgStream as AsyncIterable<Buffer>)[Symbol.asyncIterator](), target[Symbol.asyncIterator](), opts.maxRepair + 1);
      } finally {
        if (!pgStream.destroyed) pgStream.destroy();
        await target.return(undefined);
      }
    } catch (err) {
      throw classifySourceError(err, key);
    }
    const differences = diff.missingCount + diff.extraCount;
    const canRepair = opts.repair && differences > 0 && differences <= opts.maxRepair;
    let repaired = 0;
    if (canRepair) {
      // Tombstones: the project, the key columns exactly as ClickHouse printed them, version and flag.
      // (A project id is [a-z0-9_-] only: nothing to escape in TSV.)
      let i = 0;
      for (const block of toBlocks(diff.extra, `\t${version}\t1`, deps.source.blockBytes, `${plan.cfg.project}\t`)) {
        await landBlock(deps.ch, block, {
          table: plan.targetTable,
          columns: tombstoneColumns(plan),
          identity: `${key}:g${state.generation}:recon:v${version}:tombstones:${i++}`,
          logger: deps.logger,
        });
        repaired += block.rows;
        await deps.hooks?.afterLand?.({ table: key, kind: 'tombstone', rows: block.rows });
      }
      // Missing rows: read again in this same snapshot, by key.
      repaired += await relandKeys(deps, plan, state, client, version, diff.missing, 'missing', {
        collectProblems: true,
        decode: (k, idx, text) => (kinds[idx] === 'hex' ? `decode(${text}, 'hex')` : `${text}::${k.source.castSql}`),
      });
    }
    const content =
      opts.repair && differences <= opts.maxRepair ? await reconcileContent(deps, plan, state, client, version, { maxRepair: opts.maxRepair }) : undefined;
    if (content) repaired += content.repaired;
    const ok = (differences === 0 || canRepair) && (content === undefined || content.remaining === 0);
    return {
      table: key,
      sourceRows: diff.sourceRows,
      targetRows: canRepair ? diff.targetRows - diff.extraCount + diff.missingCount : diff.targetRows,
      missing: diff.missingCount,
      extra: diff.extraCount,
      repaired,
      ok,
      version,
      ...(content ? { content } : {}),
    } satisfies ReconcileResult;
  });
  await recordReconcile(deps.meta, key, result);
  if (result.content) await recordContent(deps.meta, key, result.content);
  await addRows(deps.meta, key, result.repaired);
  if (result.missing + result.extra > 0) {
    deps.logger.warn(
      { table: key, missing: result.missing, extra: result.extra, repaired: result.repaired, ok: result.ok },
      'reconciliation found differences',
    );
  }
  if (!result.ok && result.content && result.content.remaining > 0 && result.missing + result.extra <= opts.maxRepair) {
    // Not a failure: the rest is repaired by the next runs, maxRepair at a time.
    deps.logger.warn({ table: key, remaining: result.content.remaining }, 'content differences beyond maxRepair left for the next reconciliation');
    return result;
  }
  if (!result.ok) {
    throw new ValidationError(
      `${key}: reconciliation found ${result.missing} missing and ${result.extra} extra keys${opts.repair ? `, more than maxRepair (${opts.maxRepair})` : ' (repair is off)'}; resync the table`,
      { context: { table: key, missing: result.missing, extra: result.extra } },
    );
  }
  return result;
}
