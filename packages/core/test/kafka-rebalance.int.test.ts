import { createKafkaClient, createLogger, type ConsumedBatch, type KafkaConsumer } from '../src';
import { services, uniqueName } from './services';

/**
 * A consumer group that grows and shrinks while it works: the interface's
 * consumer must hand every record to some member, never let a member commit a
 * partition it no longer holds, and end with every partition committed to
 * its end. This is what lets the ingest consumers scale (docs/ingestion.md).
 */

const logger = createLogger({ level: 'silent' });
const PARTITIONS = 6;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

test('a member joins and another leaves mid-stream: every record handled, each partition committed to its end, a refused commit names why', async () => {
  const kafka = createKafkaClient({ brokers: services.kafkaBrokers, clientId: uniqueName('tm-rebalance'), logger });
  const topic = uniqueName('tm-rebalance');
  const groupId = uniqueName('tm-rebalance-group');
  const admin = kafka.admin();
  await admin.connect();
  const members: KafkaConsumer[] = [];
  try {
    await admin.createTopics([{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
    // A steady stream for the whole test, as the collector produces: the group changes while records keep coming.
    const producer = kafka.producer();
    await producer.connect();
    let produced = 0;
    let producing = true;
    const stream = (async () => {
      while (producing) {
        await producer.send([{ topic, records: Array.from({ length: 60 }, (_, j) => ({ key: `k${(produced + j) % 97}`, value: String(produced + j) })) }]);
        produced += 60;
        await sleep(50);
      }
    })();

    const handled = new Set<string>(); // partition:offset
    const refusedCommits: string[] = [];
    const byMember = [0, 0];
    const start = (m: number): KafkaConsumer => {
      const c = kafka.consumer({
        groupId,
        maxBytesPerPartition: 2 * 1024, // small batches: many of them, so commits race the rebalances
        maxBytes: 64 * 1024,
        minBytes: 1,
        maxWaitMs: 100,
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1_000,
      });
      members.push(c);
      void c.run({
        topics: [topic],
        fromBeginning: true,
        eachBatch: async (b: ConsumedBatch) => {
          if (b.records.length === 0) return;
          await sleep(20); // a handler that takes time, as a ClickHouse insert does
          for (const r of b.records) handled.add(`${b.partition}:${r.offset}`);
          byMember[m]! += b.records.length;
          b.resolveOffset(b.lastOffset);
          try {
            await c.commit([{ topic, partition: b.partition, offset: (BigInt(b.lastOffset) + 1n).toString() }]);
          } catch (err) {
            // Refused because the partition moved or the member is leaving: the next owner starts from the last commit and handles the range again.
            refusedCommits.push((err as Error).message);
          }
        },
      });
      return c;
    };

    const until = async (what: string, done: () => boolean, seconds = 60): Promise<void> => {
      for (let t = 0; !done(); t++) {
        if (t > seconds * 10) throw new Error(`${what}: not within ${seconds} s (handled ${handled.size} of ${produced}, by member ${byMember.join('/')})`);
        await sleep(100);
      }
    };
    const a = start(0);
    await until('the first member handles records', () => byMember[0]! >= 500);
    const b = start(1);
    await until('the joining member gets partitions and handles records', () => byMember[1]! >= 300);
    const aBefore = byMember[0]!;
    await until('the first member still handles its share', () => byMember[0]! > aBefore);
    await a.disconnect(); // leaves: the survivor takes every partition
    const bBefore = byMember[1]!;
    await until('the survivor takes over', () => byMember[1]! >= bBefore + 600);
    producing = false;
    await stream;
    await producer.disconnect();
    await until('every record handled', () => handled.size === produced);

    // Every partition committed to its end by the group (the last member commits after its last batch).
    const ends = await admin.topicOffsets(topic);
    for (let t = 0; t < 100; t++) {
      const [committed] = await admin.committedOffsets(groupId, [topic]);
      const done = ends.every((e) => committed!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
      if (done) break;
      await sleep(100);
    }
    const [committed] = await admin.committedOffsets(groupId, [topic]);
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(ends.map((e) => [e.partition, e.high]).sort());
    expect(ends.reduce((n, e) => n + Number(e.high), 0)).toBe(produced);
    await b.disconnect();
    // Often none: a refusal needs a commit racing a rebalance. Any refusal names why: the member's own check
    // (reassigned, leaving) or the broker's reason (seen in CI: the group rebalancing under the commit).
    for (const m of refusedCommits) expect(m).toMatch(/reassigned|not running|refused the commit of .+ \([A-Z_]+(, [A-Z_]+)*\)/);
  } finally {
    for (const m of members) await m.disconnect().catch(() => undefined);
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.disconnect();
  }
}, 120_000);
