import { compactLine, mayHoldLoneSurrogate, replaceLoneSurrogates, type IngestWarning, type Normalized, type NormalizeContext } from './common';
import { EVENT_COLUMNS, eventKey, normalizeEvent, type EventRow } from './events';
import { LOG_COLUMNS, logKey, normalizeLog, type LogRow } from './logs';
import { METRIC_COLUMNS, metricKey, normalizeMetric, type MetricRow } from './metrics';

export * from './common';
export { normalizeEvent, wireEvent, fastWireEvent, type EventRow } from './events';
export { normalizeMetric, wireMetric, labelsKey, type MetricRow } from './metrics';
export { normalizeLog, wireLog, type LogRow } from './logs';

/** Versioned landing tables. */
export const EVENTS_TABLE = 'events_raw_v1';
export const METRICS_TABLE = 'metrics_raw_v1';
export const LOGS_TABLE = 'logs_raw_v1';
export const WARNINGS_TABLE = 'ingest_warnings_v1';

export type SignalName = 'events' | 'metrics' | 'logs';
export const SIGNALS: readonly SignalName[] = ['events', 'metrics', 'logs'];

export interface RowOf {
  events: EventRow;
  metrics: MetricRow;
  logs: LogRow;
}

/** Everything the collector and the consumer need to know about one signal. */
export interface SignalSpec<S extends SignalName> {
  /** Raw ClickHouse table (versioned). */
  table: string;
  /** Its columns in insert order. */
  columns: readonly string[];
  normalize(input: unknown, ctx: NormalizeContext): Normalized<RowOf[S]>;
  /** Kafka message key: items sharing it stay ordered in one partition. */
  key(row: RowOf[S]): string;
}

export const SIGNAL_SPECS: { [S in SignalName]: SignalSpec<S> } = {
  events: { table: EVENTS_TABLE, columns: EVENT_COLUMNS, normalize: normalizeEvent, key: eventKey },
  metrics: { table: METRICS_TABLE, columns: METRIC_COLUMNS, normalize: normalizeMetric, key: metricKey },
  logs: { table: LOGS_TABLE, columns: LOG_COLUMNS, normalize: normalizeLog, key: logKey },
};

/** A validated item: its row, the row as its JSONCompactEachRow line, and what was changed. */
export type NormalizedItem<S extends SignalName> = { ok: true; row: RowOf[S]; line: string; warnings: IngestWarning[] } | { ok: false; reason: string };

/**
 * The one item validation of every ingest path (the HTTP API and the Kafka
 * consumer's wire-format messages): the signal's rules, then the storable-
 * string rule. Strings ClickHouse cannot store (lone UTF-16 surrogates, which
 * JSON can carry as "\ud800") are replaced with U+FFFD and the item is
 * accepted with an `invalid_unicode_replaced` warning naming the fields.
 * Replacing keeps the rest of the item, which rejecting would lose, and a
 * lone surrogate holds no character anyone could have meant. NUL and other
 * control characters are stored as they are (ClickHouse takes them).
 */
export function normalizeItem<S extends SignalName>(signal: S, item: unknown, ctx: NormalizeContext): NormalizedItem<S> {
  const spec = SIGNAL_SPECS[signal] as unknown as SignalSpec<S>;
  let n = spec.normalize(item, ctx);
  if (!n.ok) return n;
  let line = compactLine(spec.columns, n.row);
  if (mayHoldLoneSurrogate(line)) {
    const fields: string[] = [];
    const fixed = replaceLoneSurrogates(item, fields);
    if (fields.length > 0) {
      n = spec.normalize(fixed, ctx);
      if (!n.ok) return n;
      line = compactLine(spec.columns, n.row);
      n.warnings.push({ kind: 'invalid_unicode_replaced', detail: `lone UTF-16 surrogates replaced with U+FFFD in ${fields.join(', ')}` });
    }
  }
  return { ok: true, row: n.row, line, warnings: n.warnings };
}

export const WARNING_COLUMNS: readonly string[] = ['project_id', 'received_at', 'signal', 'kind', 'event_id', 'detail'];

/** Columns of each landing table. */
export const TABLE_COLUMNS: Record<string, readonly string[]> = {
  [EVENTS_TABLE]: EVENT_COLUMNS,
  [METRICS_TABLE]: METRIC_COLUMNS,
  [LOGS_TABLE]: LOG_COLUMNS,
  [WARNINGS_TABLE]: WARNING_COLUMNS,
};

/** A row of ingest_warnings_v1. */
export interface WarningRow {
  project_id: string;
  received_at: string;
  signal: SignalName;
  kind: string;
  event_id: string;
  detail: string;
}

export function warningRows(signal: SignalName, row: { project_id: string; received_at: string; event_id?: string }, warnings: IngestWarning[]): WarningRow[] {
  return warnings.map((w) => ({
    project_id: row.project_id,
    received_at: row.received_at,
    signal,
    kind: w.kind,
    event_id: row.event_id ?? '',
    detail: w.detail,
  }));
}
