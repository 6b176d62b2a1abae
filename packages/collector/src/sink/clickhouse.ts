import crypto from 'node:crypto';
import { ClickHouseQueryError, ValidationError, type ClickHouse, type Logger } from '@tidemark/core';
import { insertLinesWithRetry } from '../clickhouse/writer';
import { compactLine, SIGNAL_SPECS, SIGNALS, WARNING_COLUMNS, WARNINGS_TABLE, type RowOf, type SignalName, type WarningRow } from '../signals';
import { MicroBatcher, type BatcherOptions } from './batcher';
import type { Sink } from './types';

/**
 * Embedded mode (no Kafka): concurrent requests are micro-batched per table
 * and each request is answered when the insert holding its rows committed.
 * Rows are serialised in the request's own turn and a flush only
 * concatenates lines. A flush's retries reuse its deduplication token, so a
 * retry after an unclear failure never double counts.
 *
 * Isolation between requests: an insert ClickHouse refuses (a permanent
 * error: a row it cannot parse or store) is split by request (MicroBatcher
 * splitIf), so the other requests of the micro-batch, whatever project they
 * belong to, land and are answered 200; only the request holding the
 * refused row is answered 400, naming ClickHouse's reason. Validation
 * should already have refused or repaired such a row; this is the second,
 * independent line of defence. The refused insert committed nothing, so the
 * halves get fresh tokens.
 */
/** A permanent ClickHouse error (bad data, not an unreachable store): worth isolating by request. */
function rowLevel(err: unknown): err is ClickHouseQueryError {
  return err instanceof ClickHouseQueryError && !err.retriable;
}

export class ClickHouseSink implements Sink {
  readonly kind = 'clickhouse' as const;
  private readonly batchers: Record<SignalName | 'warnings', MicroBatcher<string>>;

  constructor(ch: ClickHouse, logger: Logger, opts: BatcherOptions) {
    const make = (table: string, columns: readonly string[]) =>
      new MicroBatcher<string>((lines) => insertLinesWithRetry(ch, table, columns, [lines.join('')], `direct:${table}:${crypto.randomUUID()}`, { logger }), {
        ...opts,
        splitIf: rowLevel,
      });
    this.batchers = {
      events: make(SIGNAL_SPECS.events.table, SIGNAL_SPECS.events.columns),
      metrics: make(SIGNAL_SPECS.metrics.table, SIGNAL_SPECS.metrics.columns),
      logs: make(SIGNAL_SPECS.logs.table, SIGNAL_SPECS.logs.columns),
      warnings: make(WARNINGS_TABLE, WARNING_COLUMNS),
    };
  }

  async write<S extends SignalName>(signal: S, _rows: RowOf[S][], lines: readonly string[], warnings: WarningRow[]): Promise<void> {
    try {
      await Promise.all([this.batchers[signal].add(lines), this.batchers.warnings.add(warnings.map((w) => compactLine(WARNING_COLUMNS, w)))]);
    } catch (err) {
      // After splitting, a row-level refusal reaches only the request whose rows ClickHouse refused.
      if (rowLevel(err) && err.statusCode === 400) {
        throw new ValidationError(`ClickHouse refused a row of this request, so none of its ${lines.length} row(s) were stored: ${err.message.slice(0, 500)}`, {
          cause: err,
          context: { clickhouseCode: err.context.clickhouseCode },
        });
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...SIGNALS.map((s) => this.batchers[s].drain()), this.batchers.warnings.drain()]);
  }
}
