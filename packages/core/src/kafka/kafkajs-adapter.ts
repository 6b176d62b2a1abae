import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type KafkaConfig, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type {
  ConsumerOptions,
  KafkaAdmin,
  KafkaClient,
  KafkaClientOptions,
  KafkaConsumer,
  KafkaProducer,
  OutgoingRecord,
  ProducerOptions,
  TopicSpec,
} from './types';

/**
 * The Kafka interface (./types) on kafkajs 2.x, the only file that imports
 * it. kafkajs's errors pass through unchanged: classifyError (core/errors)
 * knows their names and cause chains.
 */

/** Maps kafkajs's log levels onto the component's pino logger. */
function kafkaLogCreator(logger: Logger, quiet: boolean) {
  return () =>
    ({ level, log }: { level: logLevel; log: { message: string } & Record<string, unknown> }) => {
      const { message, ...rest } = log;
      if (quiet) logger.debug({ kafka: rest }, message);
      else if (level <= logLevel.ERROR) logger.error(rest, message);
      else if (level === logLevel.WARN) logger.warn(rest, message);
      else if (level === logLevel.INFO) logger.debug(rest, message);
      else logger.trace(rest, message);
    };
}

class KafkajsProducer implements KafkaProducer {
  constructor(
    private readonly p: Producer,
    logger: Logger,
  ) {
    p.on('producer.disconnect', () => logger.debug('Kafka producer disconnected'));
  }

  connect(): Promise<void> {
    return this.p.connect();
  }

  async send(batches: { topic: string; records: OutgoingRecord[] }[], opts: { compression?: 'none' | 'gzip' } = {}): Promise<void> {
    await this.p.sendBatch({
      acks: -1,
      compression: opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      topicMessages: batches.map((b) => ({ topic: b.topic, messages: b.records })),
    });
  }

  disconnect(): Promise<void> {
    return this.p.disconnect();
  }
}

class KafkajsConsumer implements KafkaConsumer {
  constructor(private readonly c: Consumer) {}

  async run(opts: Parameters<KafkaConsumer['run']>[0]): Promise<void> {
    await this.c.connect();
    await this.c.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
    await this.c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const empty = batch.isEmpty();
        return opts.eachBatch({
          topic: batch.topic,
          partition: batch.partition,
          records: empty ? [] : batch.messages,
          // firstOffset() is null for a batch whose records were all filtered (compaction, control records).
          firstOffset: empty ? '' : (batch.firstOffset() ?? batch.messages[0]!.offset),
          lastOffset: empty ? '' : batch.lastOffset(),
          resolveOffset,
          heartbeat,
          isRunning,
          isStale,
        });
      },
    });
  }

  commit(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    return this.c.commitOffsets(offsets);
  }

  pause(topics: string[]): void {
    this.c.pause(topics.map((topic) => ({ topic })));
  }

  resume(topics: string[]): void {
    this.c.resume(topics.map((topic) => ({ topic })));
  }

  onCrash(listener: (e: { error: Error; restart: boolean }) => void): void {
    this.c.on(this.c.events.CRASH, ({ payload }) => listener({ error: payload.error, restart: payload.restart }));
  }

  disconnect(): Promise<void> {
    return this.c.disconnect();
  }
}

class KafkajsAdmin implements KafkaAdmin {
  constructor(private readonly a: Admin) {}

  connect(): Promise<void> {
    return this.a.connect();
  }

  disconnect(): Promise<void> {
    return this.a.disconnect();
  }

  listTopics(): Promise<string[]> {
    return this.a.listTopics();
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    await this.a.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        ...(t.config ? { configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })) } : {}),
      })),
    });
  }

  deleteTopics(topics: string[]): Promise<void> {
    return this.a.deleteTopics({ topics });
  }

  async topicMetadata(topics: string[]): Promise<{ topic: string; partitions: { partition: number; leader: number }[] }[]> {
    const md = await this.a.fetchTopicMetadata({ topics });
    return md.topics.map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader })) }));
  }

  async topicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]> {
    return (await this.a.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
  }

  async committedOffsets(groupId: string, topics?: string[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]> {
    const got = await this.a.fetchOffsets(topics ? { groupId, topics } : { groupId });
    return got.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })) }));
  }

  async brokers(): Promise<{ nodeId: number; host: string; port: number }[]> {
    return (await this.a.describeCluster()).brokers;
  }

  async listGroups(): Promise<{ groupId: string; protocolType: string }[]> {
    return (await this.a.listGroups()).groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType }));
  }
}

/** The Kafka interface on a kafkajs client for the configured brokers, logging through pino. */
export function createKafkajsClient(opts: KafkaClientOptions): KafkaClient {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers.split(',').map((b) => b.trim()),
    logLevel: opts.quiet ? logLevel.WARN : logLevel.INFO,
    logCreator: kafkaLogCreator(opts.logger, opts.quiet ?? false),
    retry: { retries: opts.retries ?? 8, initialRetryTime: 100, maxRetryTime: opts.retries !== undefined && opts.retries < 3 ? 1_000 : 5_000 },
    ...(opts.timeoutMs !== undefined ? { connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs } : {}),
  };
  const kafka = new Kafka(config);
  return {
    producer: (p: ProducerOptions = {}) =>
      new KafkajsProducer(kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: p.allowAutoTopicCreation ?? true }), opts.logger),
    consumer: (c: ConsumerOptions) =>
      new KafkajsConsumer(
        kafka.consumer({
          groupId: c.groupId,
          maxBytesPerPartition: c.maxBytesPerPartition,
          maxBytes: c.maxBytes,
          minBytes: c.minBytes,
          maxWaitTimeInMs: c.maxWaitMs,
          sessionTimeout: c.sessionTimeoutMs,
          heartbeatInterval: c.heartbeatIntervalMs,
          allowAutoTopicCreation: false,
        }),
      ),
    admin: () => new KafkajsAdmin(kafka.admin()),
  };
}
