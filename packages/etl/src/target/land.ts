/**
 * Landing blocks of TabSeparated rows into ClickHouse.
 *
 * Every block carries an insert_deduplication_token derived only from what
 * the block is (table, generation, position, and a hash of its bytes), so
 * the same block sent twice — a retry after a timeout whose outcome was
 * unknown, or a worker that died after the insert but before its
 * checkpoint and read the same rows again — is stored once. Callers write
 * their checkpoint only after landBlock resolves.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { retry, type ClickHouse, type Logger } from '@tidemark/core';
import { assertPlainIdentifier, chIdent } from '../sql/quote';

export interface Block {
  /** TabSeparated rows, each ending in \n. */
  data: Buffer;
  rows: number;
}

/** Deterministic token of a block: its identity plus its content. */
export function dedupToken(identity: string, data: Buffer): string {
  return crypto.createHash('sha256').update(identity).update('\0').update(data).digest('hex');
}

export interface LandOptions {
  table: string;
  /** Column list when the block has fewer columns than the table (tombstones: key, _version, is_deleted). */
  columns?: string[];
  /** Identity part of the token, e.g. "shop.public.orders:g3:chunk:17:block:0". */
  identity: string;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Inserts one block, retrying retriable failures with the same token.
 * Resolves only when ClickHouse has confirmed the insert.
 */
export async function landBlock(ch: ClickHouse, block: Block, opts: LandOptions): Promise<{ token: string }> {
  if (block.rows === 0) return { token: '' };
  const token = dedupToken(opts.identity, block.data);
  // Both names are checked plain identifiers, so they go unquoted (the embedded
  // server's insert path accepts only plain `db.table`).
  const table = `${assertPlainIdentifier('ClickHouse database', ch.database)}.${assertPlainIdentifier('ClickHouse table', opts.table)}`;
  await retry(
    async () => {
      await ch.client.insert({
        table,
        values: Readable.from([block.data], { objectMode: false }),
        format: 'TabSeparated',
        ...(opts.columns ? { columns: opts.columns.map(chIdent) as [string, ...string[]] } : {}),
        clickhouse_settings: { insert_deduplication_token: token, insert_deduplicate: 1, async_insert: 0 },
        ...(opts.signal ? { abort_signal: opts.signal } : {}),
      });
    },
    {
      dependency: 'clickhouse',
      retries: 6,
      initialDelayMs: 200,
      maxDelayMs: 10_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onRetry: (err, attempt, delayMs) =>
        opts.logger.warn({ err, attempt, delayMs, table: opts.table, rows: block.rows }, 'ClickHouse insert failed; retrying with the same dedup token'),
    },
  );
  return { token };
}
