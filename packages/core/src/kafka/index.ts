import { createKafkajsClient } from './kafkajs-adapter';
import type { KafkaClient, KafkaClientOptions } from './types';

export type * from './types';

/**
 * The Kafka client of every Tidemark component: the narrow interface of
 * ./types, today on kafkajs (docs/benchmarks.md, "Kafka client", has the
 * measurement against @platformatic/kafka and what a switch takes).
 */
export function createKafkaClient(opts: KafkaClientOptions): KafkaClient {
  return createKafkajsClient(opts);
}
