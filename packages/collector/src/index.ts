export { collectorRole, consumerRole } from './role';
export { createCollectorApp, type CollectorAppOptions } from './http/app';
export { IngestConsumer, type IngestConsumerOptions } from './kafka/consumer';
export { topicNames, type Topics, FORMAT_HEADER, ROWS_FORMAT } from './kafka/topics';
export { ClickHouseSink } from './sink/clickhouse';
export { KafkaSink, ensureTopics } from './sink/kafka';
export type { Sink } from './sink/types';
export * from './signals';
export { parseBatch, normalizeBatch, type RowError } from './signals/batch';
