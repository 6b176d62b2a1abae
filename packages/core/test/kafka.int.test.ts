import type { Consumer, Producer } from 'kafkajs';
import { createKafka, createLogger } from '../src';
import { services, uniqueName } from './services';

const logger = createLogger({ level: 'silent' });

test(`produce/consume round trip through the real Kafka (${services.kafkaBrokers})`, async () => {
  const kafka = createKafka({ brokers: services.kafkaBrokers, clientId: uniqueName('tm-test'), logger });
  const topic = uniqueName('tm-roundtrip');
  const admin = kafka.admin();
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    const sent = Array.from({ length: 100 }, (_, i) => ({ key: `user-${i % 7}`, value: JSON.stringify({ i }) }));
    await producer.send({ topic, acks: -1, messages: sent });

    consumer = kafka.consumer({ groupId: uniqueName('tm-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; i: number; partition: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length}/100 messages in 30 s`)), 30_000);
      void consumer!.run({
        eachMessage: async ({ message, partition }) => {
          received.push({ key: String(message.key), i: (JSON.parse(String(message.value)) as { i: number }).i, partition });
          if (received.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    expect(received.map((r) => r.i).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    // One key always lands in one partition, so one user's events stay ordered.
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of received) partitionsByKey.set(r.key, (partitionsByKey.get(r.key) ?? new Set()).add(r.partition));
    for (const set of partitionsByKey.values()) expect(set.size).toBe(1);
    for (const key of partitionsByKey.keys()) {
      const order = received.filter((r) => r.key === key).map((r) => r.i);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  } finally {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});
