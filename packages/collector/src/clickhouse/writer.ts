import type { ClickHouse, ClickHouseSettings } from '@tidemark/core';
import { classifyError, retry, type Logger, type RetryOptions } from '@tidemark/core';
import { TABLE_COLUMNS } from '../signals';

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
 * Rows as JSONCompactEachRow values in the table's column order: the keys are
 * not repeated per row, which makes the payload about 40% smaller and
 * ClickHouse's parse correspondingly faster.
 */
export function compactValues(table: string, rows: readonly object[]): { columns: [string, ...string[]]; values: unknown[][] } {
  const columns = TABLE_COLUMNS[table];
  if (!columns || columns.length === 0) throw new Error(`no column list for table ${table}`);
  const values = rows.map((r) => columns.map((c) => (r as Record<string, unknown>)[c]));
  return { columns: columns as [string, ...string[]], values };
}

/** Inserts rows into one table with a deduplication token, retrying transient failures. */
export async function insertRows(
  ch: ClickHouse,
  table: string,
  rows: readonly object[],
  token: string,
  opts: { logger: Logger; retry?: RetryOptions },
): Promise<void> {
  if (rows.length === 0) return;
  await retry(
    async () => {
      const { columns, values } = compactValues(table, rows);
      await ch.client.insert({ table, values, columns, format: 'JSONCompactEachRow', clickhouse_settings: insertSettings(token) });
    },
    {
      retries: 5,
      initialDelayMs: 200,
      maxDelayMs: 5_000,
      dependency: 'clickhouse',
      onRetry: (err, attempt, delayMs) => opts.logger.warn({ table, attempt, delayMs, err: err.message }, 'ClickHouse insert failed; retrying with the same token'),
      ...opts.retry,
    },
  ).catch((err: unknown) => {
    throw classifyError(err, 'clickhouse');
  });
}
