import { PlatformaticAdmin } from './platformatic-admin';
import { PlatformaticConsumer } from './platformatic-consumer';
import { PlatformaticProducer } from './platformatic-producer';
import type { KafkaClient, KafkaClientOptions } from './types';

export type * from './types';
export { groupLag } from './lag';

/**
 * The Kafka client of every Tidemark component: the narrow interface of
 * ./types on @platformatic/kafka (issue 17: kafkajs, unmaintained since 2023,
 * was measured against it and replaced; docs/benchmarks.md "Kafka client").
 * These adapters are the only files that load a Kafka client.
 */
export function createKafkaClient(opts: KafkaClientOptions): KafkaClient {
  return {
    producer: (p = {}) => new PlatformaticProducer(opts, p, opts.logger),
    consumer: (c) => new PlatformaticConsumer(opts, c, opts.logger),
    admin: () => new PlatformaticAdmin(opts),
  };
}
