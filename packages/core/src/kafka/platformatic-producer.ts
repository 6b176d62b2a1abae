import type { Logger } from 'pino';
import { baseOptions, loadPlatformatic, type PltProducer } from './platformatic-load';
import type { KafkaClientOptions, KafkaProducer, OutgoingRecord, ProducerOptions } from './types';

/**
 * The interface's producer on @platformatic/kafka (issue 17: it produces the
 * collector's messages twice as fast as kafkajs did, at a third of the CPU,
 * docs/benchmarks.md).
 *
 * In the roles image it runs without its optional dependencies (the image
 * omits them to keep chDB out): crc32c then comes from its WebAssembly
 * helper instead of @node-rs/crc32, and protobufjs (schema registries) is
 * not used here. Its errors carry `code` PLT_KFK_*; classifyError
 * (core/errors) maps them.
 */

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
    const plt = await loadPlatformatic();
    this.producer = new plt.Producer({
      ...baseOptions(this.opts, 10_000),
      idempotent: true,
      acks: plt.ProduceAcks.ALL,
      autocreateTopics: this.producerOpts.allowAutoTopicCreation ?? true,
      partitioner: plt.compatibilityPartitioner,
    });
    return this.producer;
  }

  /** Opens the connections now, so a broker that is away fails here rather than on the first send. */
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
