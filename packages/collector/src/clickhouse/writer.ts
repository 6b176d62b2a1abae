import { Readable } from 'node:stream';
import type { ClickHouse, ClickHouseSettings } from '@tidemark/core';
import { classifyError, retry, type Logger, type RetryOptions } from '@tidemark/core';

/**
 * Settings of every raw-table insert. The deduplication token makes a retried
 * insert a no-op in the raw table and, with
 * deduplicate_blocks_in_dependent_materialized_views, in every rollup fed by
 * a materialized view. Late events spanning many days must not fail the
 * insert, so the partition limit only warns.
 */
export function insertSettings(token: string): ClickHouseSettings {
  return {
    insert_deduplicate: 1,
    insert_deduplication_token: token,
    deduplicate_blocks_in_dependent_materialized_views: 1,
    throw_on_max_partitions_per_insert_block: 0,
    async_insert: 0,
  };
}

/**
 * One INSERT of already serialised JSONCompactEachRow lines, with the
 * deduplication token; no retry here (callers decide: the micro-batcher
 * retries with the same token, the Kafka consumer pauses and bisects).
 * `table` and `columns` come from the code's table contract, never from
 * input.
 */
export async function insertLines(
  ch: ClickHouse,
  table: string,
  columns: readonly string[],
  chunks: readonly (Buffer | string)[],
  token: string,
): Promise<void> {
  if (chunks.length === 0) return;
  try {
    const r = await ch.client.exec({
      query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT JSONCompactEachRow`,
      values: Readable.from(chunks, { objectMode: false }),
      clickhouse_settings: insertSettings(token),
    });
    r.stream.resume();
    await new Promise<void>((resolve, reject) => {
      r.stream.once('end', resolve);
      r.stream.once('close', resolve);
      r.stream.once('error', reject);
    });
  } catch (err) {
    throw classifyError(err, 'clickhouse');
  }
}

/** insertLines with retries of transient failures; every attempt carries the same token. */
export async function insertLinesWithRetry(
  ch: ClickHouse,
  table: string,
  columns: readonly string[],
  chunks: readonly (Buffer | string)[],
  token: string,
  opts: { logger: Logger; retry?: RetryOptions },
): Promise<void> {
  await retry(() => insertLines(ch, table, columns, chunks, token), {
    retries: 5,
    initialDelayMs: 200,
    maxDelayMs: 5_000,
    dependency: 'clickhouse',
    onRetry: (err, attempt, delayMs) =>
      opts.logger.warn({ table, attempt, delayMs, err: err.message }, 'ClickHouse insert failed; retrying with the same token'),
    ...opts.retry,
  });
}
