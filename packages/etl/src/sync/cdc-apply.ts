/**
 * Applying a CDC batch to ClickHouse: a table's upserts are landed by reading
 * each key's current row from the source (the snapshot's SELECT expressions,
 * so one formatting path, and unchanged TOAST values come back whole; a row
 * gone by then is skipped, its delete is later in the stream), its deletes as
 * tombstones; a TRUNCATE tombstones every live key.
 *
 * Hot path: replicated rows travel as COPY text blocks straight into
 * ClickHouse; nothing here parses or validates a data row.
 */
import type { Pool, PoolClient } from 'pg';
import type { ClickHouse, Logger } from '@tidemark/core';
import type { SourceConfig } from '../config/schema';
import { classifySourceError } from '../errors';
import { withRead } from '../source/session';
import { SettingParams } from '../sql/bind';
import { chIdent } from '../sql/quote';
import { qualifiedTarget } from '../target/ddl';
import { landBlock } from '../target/land';
import { chKeyExpr, type KeyKind } from '../target/types';
import type { Op } from './cdc-batch';
import { copyAndLand } from './copy-land';
import type { SyncHooks } from './deps';
import { keysJoin, keysTable } from './keys';
import { landableFilter, landingColumns, selectList, tombstoneColumns, type TablePlan } from './plan';
import { collectProblemRows } from './quarantine';
import { chLines, toBlocks } from './reconcile';

export interface ApplyDeps {
  ch: ClickHouse;
  meta: Pool;
  sourcePool: Pool;
  source: SourceConfig;
  hooks?: SyncHooks;
  logger: Logger;
}

/** Keys per read: one bound JSON value each. */
const KEYS_PER_READ = 5_000;

/**
 * Lands one table's changes of a batch; returns the rows landed. Identities:
 * `<table>:g<generation>:cdc:<batch>:u<i>` for upserts, `...:d<i>` for
 * deletes (i: the first key's index), so a replayed batch collapses.
 */
export async function applyTableOps(deps: ApplyDeps, plan: TablePlan, generation: number | undefined, ops: Iterable<Op>, batchId: string): Promise<number> {
  const upserts: string[][] = [];
  const deletes: string[][] = [];
  for (const op of ops) (op.kind === 'upsert' ? upserts : deletes).push([...op.key, op.version]);
  const identity = `${plan.cfg.key}:g${generation}:cdc:${batchId}`;
  return withRead(deps.sourcePool, async (client) => {
    try {
      return await applyInRead(deps, plan, client, upserts, deletes, identity);
    } catch (err) {
      throw classifySourceError(err, plan.cfg.key);
    }
  });
}

async function applyInRead(deps: ApplyDeps, plan: TablePlan, client: PoolClient, upserts: string[][], deletes: string[][], identity: string): Promise<number> {
  let rows = 0;
  for (const [kind, keys] of [
    ['upsert', upserts],
    ['delete', deletes],
  ] as const) {
    for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
      const s = new SettingParams(kind === 'upsert' ? 'c' : 'd');
      const kt = keysTable(plan.key, keys.slice(i, i + KEYS_PER_READ), s, 'j', ['_v']);
      const project = s.ref(plan.cfg.project);
      await s.apply(client);
      let sql: string;
      if (kind === 'upsert') {
        const from = `FROM ${plan.pgTable} AS t JOIN ${kt} ON ${keysJoin(plan.key, 't', 'j')} WHERE true`;
        await collectProblemRows(deps, plan, client, from);
        sql = `COPY (SELECT ${selectList(plan, 't', 'j."_v"', project)} ${from}${landableFilter(plan, 't')}) TO STDOUT`;
      } else {
        sql = `COPY (SELECT (${project})::text, ${plan.key.map((k, n) => k.select(`j.k${n}`)).join(', ')}, (j."_v")::text, '1' FROM ${kt}) TO STDOUT`;
      }
      rows += await copyAndLand(deps, client, sql, {
        tableKey: plan.cfg.key,
        table: plan.targetTable,
        columns: kind === 'upsert' ? landingColumns(plan) : tombstoneColumns(plan),
        identity: `${identity}:${kind === 'upsert' ? 'u' : 'd'}${i}`,
        kind: 'cdc',
      });
    }
  }
  return rows;
}

/** TRUNCATE: tombstones every live key of the table's project in ClickHouse; returns how many. */
export async function tombstoneAll(
  deps: Pick<ApplyDeps, 'ch' | 'source' | 'logger'>,
  plan: TablePlan,
  generation: number | undefined,
  version: string,
): Promise<number> {
  const kinds = typeof plan.keyKinds === 'string' ? undefined : plan.keyKinds;
  const cols = plan.key.map((k, i) => (kinds ? chKeyExpr(kinds[i] as KeyKind, chIdent(k.name)) : chIdent(k.name)));
  const sql = `SELECT ${cols.join(', ')} FROM ${qualifiedTarget(deps.ch, plan.targetTable)} FINAL WHERE is_deleted = 0 AND project_id = {project:String}`;
  const rs = await deps.ch.client.query({ query: sql, format: 'TabSeparated', query_params: { project: plan.cfg.project } });
  const lines: string[] = [];
  for await (const l of chLines(rs.stream())) lines.push(l);
  let i = 0;
  for (const block of toBlocks(lines, `\t${version}\t1`, deps.source.blockBytes, `${plan.cfg.project}\t`)) {
    await landBlock(deps.ch, block, {
      table: plan.targetTable,
      columns: tombstoneColumns(plan),
      identity: `${plan.cfg.key}:g${generation}:cdc:truncate:${version}:${i++}`,
      logger: deps.logger,
    });
  }
  return lines.length;
}
