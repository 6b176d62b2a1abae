import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createKafkaClient, createLogger, groupLag, type KafkaConsumer, type KafkaProducer } from '../src';
import { services, uniqueName } from './services';

const logger = createLogger({ level: 'silent' });

// kafkajs's murmur2, a port of the Java client's: the reference for where Kafka's default partitioner puts a key.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

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
    // ... the partition Kafka's default partitioner (the Java client's, and the collector's partitionOfKey) picks.
    expect(partitionsByKey.size).toBe(7);
    for (const [key, set] of partitionsByKey) expect({ key, partition: [...set][0] }).toEqual({ key, partition: (murmur2(Buffer.from(key)) & 0x7fffffff) % 3 });
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

test('the producer works without its optional dependencies, as in the roles image (no @node-rs/crc32, no protobufjs)', async () => {
  const topic = uniqueName('tm-noopt');
  // A child process (jest's module registry cannot be made to refuse a package): Node's resolver refuses the
  // optional packages, as when `npm ci --omit=optional` left them out, and the built core produces 20 records.
  const hook = `const M = require('node:module'); const resolve = M._resolveFilename;
    M._resolveFilename = function (request, ...rest) {
      if (/^(@node-rs\\/crc32|protobufjs)$/.test(request)) { const e = new Error('Cannot find module ' + request); e.code = 'MODULE_NOT_FOUND'; throw e; }
      return resolve.call(this, request, ...rest);
    };`;
  const script = `${hook}
    const { createKafkaClient, createLogger } = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
    (async () => {
      const p = createKafkaClient({ brokers: ${JSON.stringify(services.kafkaBrokers)}, clientId: 'tm-noopt', logger: createLogger({ level: 'silent' }) }).producer();
      await p.connect();
      await p.send([{ topic: ${JSON.stringify(topic)}, records: Array.from({ length: 20 }, (_, i) => ({ key: 'k' + i, value: 'v' + i })) }]);
      await p.disconnect();
      let refused = 0;
      for (const name of ['@node-rs/crc32', 'protobufjs']) try { require(name); } catch { refused++; }
      process.stdout.write(JSON.stringify({ refused }));
    })().catch((e) => { process.stderr.write(String(e.stack)); process.exit(1); });`;
  const kafka = createKafkaClient({ brokers: services.kafkaBrokers, clientId: uniqueName('tm-test'), logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics([{ topic, numPartitions: 2, replicationFactor: 1 }]);
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
    expect(JSON.parse(out)).toEqual({ refused: 2 });
    const ends = await admin.topicOffsets(topic);
    expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(20);
  } finally {
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.disconnect();
  }
});
