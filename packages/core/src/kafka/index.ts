import { createKafkajsClient } from './kafkajs-adapter';
import { PlatformaticProducer } from './platformatic-producer';
import type { KafkaClient, KafkaClientOptions } from './types';

export type * from './types';
export { groupLag } from './lag';

/**
 * The Kafka client of every Tidemark component: the narrow interface of
 * ./types on kafkajs, the producers optionally on @platformatic/kafka
 * (docs/benchmarks.md, "Kafka client", has the measurement and what a full
 * switch still takes).
 */
export function createKafkaClient(opts: KafkaClientOptions): KafkaClient {
  const kafkajs = createKafkajsClient(opts);
  if (opts.producerClient !== 'platformatic') return kafkajs;
  return { ...kafkajs, producer: (p = {}) => new PlatformaticProducer(opts, p, opts.logger) };
}
