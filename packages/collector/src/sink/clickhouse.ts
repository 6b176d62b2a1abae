import crypto from 'node:crypto';
import type { ClickHouse, Logger } from '@tidemark/core';
import { insertRows } from '../clickhouse/writer';
import { SIGNAL_SPECS, SIGNALS, WARNINGS_TABLE, type RowOf, type SignalName, type WarningRow } from '../signals';
import { MicroBatcher, type BatcherOptions } from './batcher';
import type { Sink } from './types';

/**
 * Embedded mode (no Kafka): concurrent requests are micro-batched per table
 * and each request is answered when the insert holding its rows committed.
 * A flush's retries reuse its deduplication token, so a retry after an
 * unclear failure never double counts.
 */
export class ClickHouseSink implements Sink {
  readonly kind = 'clickhouse' as const;
  private readonly batchers: Record<SignalName | 'warnings', MicroBatcher<object>>;

  constructor(ch: ClickHouse, logger: Logger, opts: BatcherOptions) {
    const make = (table: string) =>
      new MicroBatcher<object>((rows) => insertRows(ch, table, rows, `direct:${table}:${crypto.randomUUID()}`, { logger }), opts);
    this.batchers = {
      events: make(SIGNAL_SPECS.events.table),
      metrics: make(SIGNAL_SPECS.metrics.table),
      logs: make(SIGNAL_SPECS.logs.table),
      warnings: make(WARNINGS_TABLE),
    };
  }

  async write<S extends SignalName>(signal: S, rows: RowOf[S][], warnings: WarningRow[]): Promise<void> {
    await Promise.all([this.batchers[signal].add(rows), this.batchers.warnings.add(warnings)]);
  }

  async close(): Promise<void> {
    await Promise.all([...SIGNALS.map((s) => this.batchers[s].drain()), this.batchers.warnings.drain()]);
  }
}
