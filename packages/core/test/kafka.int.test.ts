import { createKafkaClient, createLogger, groupLag, type KafkaConsumer, type KafkaProducer } from '../src';
import { services, uniqueName } from './services';

const logger = createLogger({ level: 'silent' });

test(`produce/consume round trip through the real Kafka (${services.kafkaBrokers}), through the core Kafka interface`, async () => {
  const kafka = createKafkaClient({ brokers: services.kafkaBrokers, clientId: uniqueName('tm-test'), logger });
  const topic = uniqueName('tm-roundtrip');
  const groupId = uniqueName('tm-group');
  const admin = kafka.admin();
  let producer: KafkaProducer | undefined;
  let consumer: KafkaConsumer | undefined;
  try {
    await admin.connect();
    await admin.createTopics([{ topic, numPartitions: 3, replicationFactor: 1 }]);
    producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 100 }, (_, i) => ({ key: `user-${i % 7}`, value: JSON.stringify({ i }) }));
    await producer.send([{ topic, records: sent }]);
    // Nothing committed yet: every record is lag.
    expect((await groupLag(admin, groupId, [topic])).reduce((n, p) => n + p.lag, 0)).toBe(sent.length);

    consumer = kafka.consumer({
      groupId,
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 3 * 1024 * 1024,
      minBytes: 1,
      maxWaitMs: 100,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 2_000,
    });
    const c = consumer;
    const received: { key: string; i: number; partition: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length}/100 messages in 30 s`)), 30_000);
      void c.run({
        topics: [topic],
        fromBeginning: true,
        eachBatch: async (batch) => {
          if (batch.records.length === 0) return;
          for (const r of batch.records) received.push({ key: String(r.key), i: (JSON.parse(String(r.value)) as { i: number }).i, partition: batch.partition });
          batch.resolveOffset(batch.lastOffset);
          await c.commit([{ topic, partition: batch.partition, offset: (BigInt(batch.lastOffset) + 1n).toString() }]);
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
    // Manual commits only: the group committed each partition's end, and "-1" (nothing) where no record arrived.
    const ends = await admin.topicOffsets(topic);
    const [committed] = await admin.committedOffsets(groupId, [topic]);
    expect(ends.some((e) => e.high !== '0')).toBe(true);
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(ends.map((e) => [e.partition, e.high === '0' ? '-1' : e.high]).sort());
    expect(await groupLag(admin, groupId, [topic])).toEqual([0, 1, 2].map((partition) => ({ topic, partition, lag: 0 })));
    const [md] = await admin.topicMetadata([topic]);
    expect(md!.partitions).toHaveLength(3);
    expect((await admin.brokers()).length).toBeGreaterThanOrEqual(1);
  } finally {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.disconnect();
  }
});
