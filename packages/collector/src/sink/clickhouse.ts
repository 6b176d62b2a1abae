import crypto from 'node:crypto';
import type { ClickHouse, Logger } from '@tidemark/core';
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
 */
export class ClickHouseSink implements Sink {
  readonly kind = 'clickhouse' as const;
  private readonly batchers: Record<SignalName | 'warnings', MicroBatcher<string>>;

  constructor(ch: ClickHouse, logger: Logger, opts: BatcherOptions) {
    const make = (table: string, columns: readonly string[]) =>
      new MicroBatcher<string>((lines) => insertLinesWithRetry(ch, table, columns, [lines.join('')], `direct:${table}:${crypto.randomUUID()}`, { logger }), opts);
    this.batchers = {
      events: make(SIGNAL_SPECS.events.table, SIGNAL_SPECS.events.columns),
      metrics: make(SIGNAL_SPECS.metrics.table, SIGNAL_SPECS.metrics.columns),
      logs: make(SIGNAL_SPECS.logs.table, SIGNAL_SPECS.logs.columns),
      warnings: make(WARNINGS_TABLE, WARNING_COLUMNS),
    };
  }

  async write<S extends SignalName>(signal: S, _rows: RowOf[S][], lines: readonly string[], warnings: WarningRow[]): Promise<void> {
    await Promise.all([this.batchers[signal].add(lines), this.batchers.warnings.add(warnings.map((w) => compactLine(WARNING_COLUMNS, w)))]);
  }

  async close(): Promise<void> {
    await Promise.all([...SIGNALS.map((s) => this.batchers[s].drain()), this.batchers.warnings.drain()]);
  }
}
