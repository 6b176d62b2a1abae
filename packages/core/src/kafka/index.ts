import { createKafkajsClient } from './kafkajs-adapter';
import { PlatformaticProducer } from './platformatic-producer';
import type { KafkaClient, KafkaClientOptions } from './types';

export type * from './types';
export { groupLag } from './lag';

/**
 * The Kafka client of every Tidemark component: the narrow interface of
 * ./types, its producers on @platformatic/kafka unless `producerClient` is
 * kafkajs, its consumers and admin on kafkajs (docs/benchmarks.md, "Kafka
 * client", has the measurements and why the consumer stayed).
 */
export function createKafkaClient(opts: KafkaClientOptions): KafkaClient {
  const kafkajs = createKafkajsClient(opts);
  if (opts.producerClient === 'kafkajs') return kafkajs;
  return { ...kafkajs, producer: (p = {}) => new PlatformaticProducer(opts, p, opts.logger) };
}
