/**
 * The Kafka ingest path of one test file, on the real broker, chDB and
 * Postgres: topics of a unique prefix, the collector writing to them
 * (resend window on), the consumer group landing them (landed-id window
 * on, as the consumer role runs it), and what tests of the topic contract
 * need around it: waiting until the group committed everything, and the
 * dead-letter topic read back.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { createKafkaClient, createMetricsRegistry, MemoryStore } from '@tidemark/core';
import { ensureTopics, IngestConsumer, KafkaSink, ResendWindow, topicNames, type Topics } from '../src';
import { directKafka } from './direct-kafka';
import { kafkaBrokers, logger, startCollector, startStack, unique, type RunningCollector, type Stack } from './harness';

export interface DeadLetterSeen {
  key: string;
  reason: string;
  sourceTopic: string;
  sourceOffset: string;
  sourceIndex?: string;
  value: Buffer;
}

export interface KafkaPath {
  stack: Stack;
  /** The test's own client (direct producers, the DLQ reader, admin); the collector and consumer use the core Kafka interface. */
  kafka: Kafka;
  prefix: string;
  topics: Topics;
  groupId: string;
  collector: RunningCollector;
  /** Dead letters produced since start(), in arrival order. */
  dead: DeadLetterSeen[];
  /** Resolves once the group committed every message of the three ingest topics (then nothing more will land). */
  drained(timeoutMs?: number): Promise<void>;
  /** Resolves once `n` dead letters matching `pick` arrived. */
  waitForDead(pick: (d: DeadLetterSeen) => boolean, n: number, timeoutMs?: number): Promise<DeadLetterSeen[]>;
  close(): Promise<void>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await fn();
  while (!done(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}

const header = (h: Record<string, unknown> | undefined, name: string): string | undefined => (h?.[name] === undefined ? undefined : String(h[name]));

export async function startKafkaPath(opts: { name: string; maxItemBytes?: number }): Promise<KafkaPath> {
  const stack = await startStack();
  // Everything after this point is closed by close(), also when a later step fails.
  const client = createKafkaClient({ brokers: kafkaBrokers, clientId: unique('tm-test'), logger });
  const kafka = directKafka();
  const prefix = `${unique(opts.name)}.`;
  const topics = topicNames(prefix);
  const groupId = unique(`${opts.name}-group`);
  let sink: KafkaSink | undefined;
  let collector: RunningCollector | undefined;
  let consumer: IngestConsumer | undefined;
  let dlq: Consumer | undefined;
  const dead: DeadLetterSeen[] = [];
  const close = async (): Promise<void> => {
    await dlq?.disconnect().catch(() => undefined);
    await consumer?.stop().catch(() => undefined);
    await collector?.close();
    await sink?.close().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect().catch(() => undefined);
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await stack.close();
  };
  try {
    await ensureTopics(client, topics, 3, 1);
    sink = await KafkaSink.connect(client, { topics, compression: 'none', maxMessageBytes: 1024 * 1024 }, logger);
    const kv = new MemoryStore();
    collector = await startCollector(
      stack,
      sink,
      opts.maxItemBytes !== undefined ? { maxItemBytes: opts.maxItemBytes } : {},
      kv,
      new ResendWindow(kv, { windowMs: 120_000, maxIdsPerBucket: 100_000 }, logger),
    );
    consumer = new IngestConsumer({
      kafka: client,
      clickhouse: stack.ch,
      meta: stack.meta,
      logger,
      metrics: createMetricsRegistry(),
      topics,
      groupId,
      maxBytesPerPartition: 1024 * 1024,
      minBytes: 1,
      maxWaitMs: 100,
      futureToleranceMs: 300_000,
      retentionMs: 90 * 86_400_000,
      sessionTimeoutMs: 6_000,
      landed: new ResendWindow(new MemoryStore(), { windowMs: 120_000, maxIdsPerBucket: 100_000, prefix: 'landed' }, logger),
      ...(opts.maxItemBytes !== undefined ? { maxItemBytes: opts.maxItemBytes } : {}),
    });
    await consumer.start();
    dlq = kafka.consumer({ groupId: unique(`${opts.name}-dlq`), maxWaitTimeInMs: 100 });
    await dlq.connect();
    await dlq.subscribe({ topic: topics.dlq, fromBeginning: true });
    await dlq.run({
      eachMessage: async ({ message }) => {
        const index = header(message.headers, 'tidemark-source-index');
        dead.push({
          key: String(message.key),
          reason: header(message.headers, 'tidemark-reason') ?? '',
          sourceTopic: header(message.headers, 'tidemark-source-topic') ?? '',
          sourceOffset: header(message.headers, 'tidemark-source-offset') ?? '',
          ...(index !== undefined ? { sourceIndex: index } : {}),
          value: message.value ?? Buffer.alloc(0),
        });
      },
    });
  } catch (err) {
    await close();
    throw err;
  }

  const ingestTopics = [topics.events, topics.metrics, topics.logs];
  return {
    stack,
    kafka,
    prefix,
    topics,
    groupId,
    collector,
    dead,
    async drained(timeoutMs = 60_000) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await waitFor(
          'the consumer group to commit every message',
          async () => {
            const behind: string[] = [];
            const committed = await admin.fetchOffsets({ groupId, topics: ingestTopics });
            for (const topic of ingestTopics) {
              const ends = await admin.fetchTopicOffsets(topic);
              const mine = committed.find((t) => t.topic === topic)?.partitions ?? [];
              for (const e of ends) {
                const c = Number(mine.find((p) => p.partition === e.partition)?.offset ?? -1);
                if (Number(e.high) > Number(e.low) && c < Number(e.high)) behind.push(`${topic}[${e.partition}] ${c}/${e.high}`);
              }
            }
            return behind;
          },
          (behind) => behind.length === 0,
          timeoutMs,
        );
      } finally {
        await admin.disconnect();
      }
    },
    waitForDead: (pick, n, timeoutMs = 60_000) =>
      waitFor(
        `${n} dead letter(s)`,
        async () => dead.filter(pick),
        (found) => found.length >= n,
        timeoutMs,
      ),
    close,
  };
}
