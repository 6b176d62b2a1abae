/**
 * The one copy-and-land loop, of the by-key paths (CDC batches, key and
 * content reconciliation repairs, quarantine rechecks) and of the bulk reads
 * (snapshot chunks, cursor pages): a COPY ... TO STDOUT on the caller's read
 * transaction, cut into blocks, each block landed in
 * ClickHouse under a deterministic identity and reported to afterLand.
 *
 * Invariant: identities are `${identity}:${blockNo}` with blockNo counting
 * from 0 in stream order, so a repeated read of the same rows yields the same
 * blocks and dedup tokens (ClickHouse drops the repeat).
 */
import type { PoolClient } from 'pg';
import type { ClickHouse, Logger } from '@tidemark/core';
import type { TableState } from '../checkpoint/store';
import type { SourceConfig } from '../config/schema';
import { classifySourceError } from '../errors';
import type { Progress } from '../progress/progress';
import { copyBlocks, prefetch } from '../source/copy';
import { SettingParams } from '../sql/bind';
import { landBlock } from '../target/land';
import type { MappedColumn } from '../target/types';
import type { LandedInfo, SyncDeps, SyncHooks } from './deps';
import { keysJoin, keysTable } from './keys';
import { landableFilter, landingColumns, selectList, type TablePlan } from './plan';
import { collectProblemRows } from './quarantine';

export interface CopyLandDeps {
  ch: ClickHouse;
  logger: Logger;
  source: Pick<SourceConfig, 'blockBytes'>;
  hooks?: SyncHooks;
}

/**
 * Streams `sql` (a COPY ... TO STDOUT) into `table`; returns the rows landed.
 * Source errors are classified for `tableKey` (a failing value guard becomes
 * an EtlDataError).
 *
 * `bulk` (snapshot chunks, cursor pages): the next block is read while one
 * lands (prefetch), landing stops with `signal`, rows count into `progress`,
 * and afterLand is told the block number (and the chunk's).
 */
export async function copyAndLand(
  deps: CopyLandDeps,
  client: PoolClient,
  sql: string,
  opts: {
    tableKey: string;
    table: string;
    columns: string[];
    identity: string;
    kind: LandedInfo['kind'];
    bulk?: { progress: Progress; signal?: AbortSignal | undefined; chunkNo?: number };
  },
): Promise<number> {
  const { bulk } = opts;
  let landed = 0;
  let blockNo = 0;
  try {
    const blocks = copyBlocks(client, sql, { blockBytes: deps.source.blockBytes });
    for await (const block of bulk ? prefetch(blocks) : blocks) {
      await landBlock(deps.ch, block, {
        table: opts.table,
        columns: opts.columns,
        identity: `${opts.identity}:${blockNo}`,
        logger: deps.logger,
        ...(bulk?.signal ? { signal: bulk.signal } : {}),
      });
      landed += block.rows;
      const info: LandedInfo = { table: opts.tableKey, kind: opts.kind, rows: block.rows };
      if (bulk) {
        bulk.progress.add(block.rows);
        if (bulk.chunkNo !== undefined) info.chunkNo = bulk.chunkNo;
        info.blockNo = blockNo;
      }
      await deps.hooks?.afterLand?.(info);
      blockNo++;
    }
  } catch (err) {
    throw classifySourceError(err, opts.tableKey);
  }
  return landed;
}

/**
 * Reads rows by key in the caller's snapshot and lands them with `version`
 * (reconciliation repairs: keys missing from ClickHouse, rows whose content
 * differs), 5,000 keys per read. `collectProblems` first records the rows
 * that cannot land (the read skips them); `decode` turns a key's text back
 * into its column type when plain ::type does not (hex-printed bytea keys).
 */
export async function relandKeys(
  deps: SyncDeps,
  plan: TablePlan,
  state: TableState,
  client: PoolClient,
  version: string,
  keys: string[][],
  label: string,
  opts: { collectProblems?: boolean; decode?: (k: MappedColumn, i: number, expr: string) => string } = {},
): Promise<number> {
  const key = plan.cfg.key;
  let landed = 0;
  for (let b = 0; b < keys.length; b += 5_000) {
    const s = new SettingParams('r');
    const kt = keysTable(plan.key, keys.slice(b, b + 5_000), s, 'k', [], opts.decode);
    const v = s.ref(version, 'numeric');
    const project = s.ref(plan.cfg.project);
    await s.apply(client);
    const from = `FROM ${plan.pgTable} AS t JOIN ${kt} ON ${keysJoin(plan.key, 't', 'k')} WHERE true`;
    if (opts.collectProblems) await collectProblemRows(deps, plan, client, from);
    landed += await copyAndLand(deps, client, `COPY (SELECT ${selectList(plan, 't', v, project)} ${from}${landableFilter(plan, 't')}) TO STDOUT`, {
      tableKey: key,
      table: plan.targetTable,
      columns: landingColumns(plan),
      identity: `${key}:g${state.generation}:recon:v${version}:${label}:${b}`,
      kind: 'repair',
    });
  }
  return landed;
}
