import type { Logger } from 'pino';
import type { KafkaClientOptions, KafkaProducer, OutgoingRecord, ProducerOptions } from './types';

/**
 * The interface's producer on @platformatic/kafka, the default (issue 17: it
 * produces the collector's messages twice as fast as kafkajs at a third of
 * the CPU, docs/benchmarks.md). The consumer and admin stay on kafkajs, where
 * the two clients measured even.
 *
 * The package is ESM-only: it is loaded with import() on first use (a
 * CommonJS module cannot require it on every Node 20 the engines admit, and
 * jest runs in its ES-module mode for it, scripts/jest.sh). In the roles
 * image it runs without its optional dependencies (the image omits them to
 * keep chDB out): crc32c then comes from its WebAssembly helper instead of
 * @node-rs/crc32, and protobufjs (schema registries) is not used here. Its
 * errors carry `code` PLT_KFK_*; classifyError (core/errors) maps them.
 */

/** The part of @platformatic/kafka this file uses (its typings are ESM-only; a CommonJS file cannot name them). */
interface PltProducer {
  send(opts: {
    messages: { topic: string; key?: Buffer; value: Buffer; partition?: number; headers?: Map<Buffer, Buffer> }[];
    compression?: 'none' | 'gzip';
  }): Promise<unknown>;
  metadata(opts: { topics: string[] }): Promise<unknown>;
  close(): Promise<void>;
}
interface PltModule {
  Producer: new (opts: Record<string, unknown>) => PltProducer;
  compatibilityPartitioner: unknown;
  ProduceAcks: { ALL: number };
}

// A variable specifier keeps TypeScript (module Node16, CommonJS output) from resolving the ESM-only package's types.
const PACKAGE = '@platformatic/kafka';
let loaded: Promise<PltModule> | undefined;
function load(): Promise<PltModule> {
  loaded ??= (import(PACKAGE) as Promise<PltModule>).catch((err: unknown) => {
    loaded = undefined;
    throw new Error(`the Kafka producer could not load @platformatic/kafka (KAFKA_PRODUCER_CLIENT=kafkajs avoids it): ${(err as Error).message}`, {
      cause: err,
    });
  });
  return loaded;
}

const buf = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * Idempotent, acks=all, and, as the interface requires, one request in
 * flight: send() is never called again before the last one settled (the
 * KafkaSink's MicroBatcher and the consumer's dead-letter send both await).
 * Records without a partition are placed by Kafka's default partitioner
 * (murmur2 & 0x7fffffff): the client's own default drops the mask and sends
 * a key with a negative hash elsewhere than the Java client and kafkajs.
 */
export class PlatformaticProducer implements KafkaProducer {
  private producer: PltProducer | undefined;

  constructor(
    private readonly opts: KafkaClientOptions,
    private readonly producerOpts: ProducerOptions,
    private readonly logger: Logger,
  ) {}

  private async get(): Promise<PltProducer> {
    if (this.producer) return this.producer;
    const plt = await load();
    this.producer = new plt.Producer({
      clientId: this.opts.clientId,
      bootstrapBrokers: this.opts.brokers.split(',').map((b) => b.trim()),
      idempotent: true,
      acks: plt.ProduceAcks.ALL,
      autocreateTopics: this.producerOpts.allowAutoTopicCreation ?? true,
      partitioner: plt.compatibilityPartitioner,
      retries: this.opts.retries ?? 8,
      // Without a timeout a connection to an address that drops packets waits indefinitely (seen: over 40 s).
      timeout: this.opts.timeoutMs ?? 10_000,
    });
    return this.producer;
  }

  /** Opens the connections now, so a broker that is away fails here as it does with kafkajs. */
  async connect(): Promise<void> {
    await (await this.get()).metadata({ topics: [] });
  }

  async send(batches: { topic: string; records: OutgoingRecord[] }[], opts: { compression?: 'none' | 'gzip' } = {}): Promise<void> {
    const p = await this.get();
    const messages = batches.flatMap((b) =>
      b.records.map((r) => ({
        topic: b.topic,
        value: buf(r.value),
        ...(r.key !== undefined ? { key: buf(r.key) } : {}),
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
        ...(r.headers ? { headers: new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) } : {}),
      })),
    );
    await p.send({ messages, compression: opts.compression ?? 'none' });
  }

  async disconnect(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.close();
    this.logger.debug('Kafka producer disconnected');
  }
}
