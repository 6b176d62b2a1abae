import type { SignalName } from '../signals';

/**
 * The Kafka topic contract (docs/ingestion.md has the full text). Producers
 * may write to these topics directly:
 *
 * - `<prefix>events.v1`, `<prefix>metrics.v1`, `<prefix>logs.v1`: value is
 *   one item or a JSON array of items in the HTTP wire format, each with a
 *   `project_id`; key is what orders them (for events the user id).
 * - The collector itself writes the normalised rows, marked by the header
 *   `tidemark-format: rows-v1` and a value `{"rows": [...], "warnings": [...]}`.
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
export const ROWS_FORMAT = 'rows-v1';
