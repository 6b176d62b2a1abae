/**
 * A plain kafkajs client for tests that act as a third party on the topics:
 * a direct producer writing the topic contract, a reader of the dead-letter
 * topic, an admin looking at offsets. The contract is client-neutral, so
 * these stay on a client of their own while the code under test goes
 * through the core Kafka interface (createKafkaClient).
 */
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers, unique } from './harness';

export function directKafka(brokers = kafkaBrokers): Kafka {
  return new Kafka({ clientId: unique('tm-test-direct'), brokers: brokers.split(',').map((b) => b.trim()), logLevel: logLevel.NOTHING });
}
