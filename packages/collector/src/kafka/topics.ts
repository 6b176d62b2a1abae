import type { SignalName } from '../signals';

/**
 * The Kafka topic contract (docs/ingestion.md has the full text). Producers
 * may write to these topics directly:
 *
 * - `<prefix>events.v1`, `<prefix>metrics.v1`, `<prefix>logs.v1`: value is
 *   one item or a JSON array of items in the HTTP wire format, each with a
 *   `project_id`; key is what orders them (for events the user id).
 * - The collector itself writes normalised rows, many per message, marked
 *   by the header `tidemark-format: rows-v2`: the value is JSONCompactEachRow
 *   lines of the signal's raw table, in the column order the header
 *   `tidemark-columns` names; `tidemark-received-at` is the collector's
 *   receive time (epoch ms). A request's ingest warnings follow as one
 *   `warnings-v2` message of the same shape. The collector picks each row's
 *   partition with Kafka's default partitioner over the row's key, so one
 *   user's events stay on one partition, in order.
 * - `<prefix>dlq.v1`: messages the consumer could not land, unchanged, with
 *   headers naming the source topic, partition, offset and the reason.
 */
export interface Topics {
  events: string;
  metrics: string;
  logs: string;
  dlq: string;
}

export function topicNames(prefix: string): Topics {
  return { events: `${prefix}events.v1`, metrics: `${prefix}metrics.v1`, logs: `${prefix}logs.v1`, dlq: `${prefix}dlq.v1` };
}

export function signalOfTopic(topics: Topics, topic: string): SignalName | undefined {
  if (topic === topics.events) return 'events';
  if (topic === topics.metrics) return 'metrics';
  if (topic === topics.logs) return 'logs';
  return undefined;
}

/** Header marking a message written by the collector (already normalised rows). */
export const FORMAT_HEADER = 'tidemark-format';
/** Value: JSONCompactEachRow lines of the signal's raw table. */
export const ROWS_FORMAT = 'rows-v2';
/** Value: JSONCompactEachRow lines of the ingest warnings table. */
export const WARNINGS_FORMAT = 'warnings-v2';
/** Comma-separated column names of a rows-v2 / warnings-v2 value, in value order. */
export const COLUMNS_HEADER = 'tidemark-columns';
/** Collector receive time of the rows (epoch ms), for end-to-end lag without parsing the value. */
export const RECEIVED_AT_HEADER = 'tidemark-received-at';
