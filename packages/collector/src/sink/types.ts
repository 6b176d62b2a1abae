import type { RowOf, SignalName, WarningRow } from '../signals';

/**
 * Where accepted rows go. `write` resolves only once the rows are durable:
 * committed in ClickHouse (embedded mode) or acknowledged by every in-sync
 * Kafka replica (acks=all). The HTTP request is answered after that, never
 * before, so an acknowledged event is never lost.
 */
export interface Sink {
  readonly kind: 'clickhouse' | 'kafka';
  /** `lines[i]` is `rows[i]` serialised with compactLine (normalizeBatch makes both): what is stored and sent. */
  write<S extends SignalName>(signal: S, rows: RowOf[S][], lines: readonly string[], warnings: WarningRow[]): Promise<void>;
  close(): Promise<void>;
}
