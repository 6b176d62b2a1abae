import type { SignalName } from '../errors';
import type { QueueEntry, SendOutcome, Transport } from './types';

/** One produce as the transport sends it: acks=all (-1), values JSON arrays of items, keys `<project>:<key>`. */
export interface KafkaProduceRecord {
  topic: string;
  acks: number;
  /** The Kafka protocol's compression code: 1 = gzip (kafkajs's CompressionTypes.GZIP); absent = none. */
  compression?: number;
  messages: { key: string; value: string }[];
}

/**
 * The part of a Kafka producer the transport uses. A kafkajs Producer
 * satisfies it as it is; any other client does through a few lines that
 * map `send` onto its own produce call. The SDK's public API names no
 * Kafka library's types.
 */
export interface KafkaProducerLike {
  /** Resolves once every message is acknowledged; rejects with the client's error otherwise. */
  send(record: KafkaProduceRecord): Promise<unknown>;
}

/** A client that makes producers; a kafkajs Kafka satisfies it. */
export interface KafkaClientLike {
  producer(config: {
    idempotent: boolean;
    maxInFlightRequests: number;
    allowAutoTopicCreation: boolean;
  }): KafkaProducerLike & { connect(): Promise<void>; disconnect(): Promise<void> };
}

/** The Kafka protocol's code for gzip (record batch attributes), the same in every client. */
const GZIP = 1;

export interface KafkaTransportOptions {
  /** Project every item belongs to: direct producers are trusted with it (protect the topics with Kafka ACLs). */
  projectId: string;
  /** A client you configured (SSL, SASL, ...), e.g. a kafkajs Kafka: the transport makes an idempotent producer with it. Or give `producer` or `brokers`. */
  kafka?: KafkaClientLike;
  /** A connected producer you own (make it idempotent): the transport sends with it and neither connects nor disconnects it. */
  producer?: KafkaProducerLike;
  /** Bootstrap brokers, "host:port,host:port" or a list; a plain kafkajs client is made for them (needs the kafkajs package). */
  brokers?: string | string[];
  clientId?: string;
  /** KAFKA_TOPIC_PREFIX of the platform (default "tidemark."). */
  topicPrefix?: string;
  /** gzip (default) or none. */
  compression?: 'gzip' | 'none';
  /** Largest message value; keep it under the broker's message.max.bytes (default 1 MiB). */
  maxMessageBytes?: number;
}

class MissingKafkaJs extends Error {
  constructor(cause: unknown) {
    super('the Kafka transport needs the kafkajs package: npm install kafkajs', { cause });
  }
}

/** Error fields the outcome depends on (kafkajs names; another client's adapter can set the same). */
interface KafkaLikeError extends Error {
  retriable?: boolean;
  type?: string;
}

/**
 * Writes batches straight into the platform's topics (docs/ingestion.md,
 * "Kafka topic contract"): `<prefix>{events,metrics,logs}.v1`, key
 * `<project>:<distinct id | name:labels | service>`, value a JSON array of
 * items in the HTTP wire format, each with `project_id`. Items of one key go
 * in one message (one user's events stay in order). Sent with acks=all by an
 * idempotent producer; the consumer group validates and lands them.
 *
 * kafkajs is an optional peer dependency, loaded only when this transport
 * makes its own client (`brokers`), so HTTP-only producers, and producers
 * that bring their own client, do not install it.
 */
export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly keyed = true;
  /** The producer the transport made (and so disconnects); the caller's `producer` is used as it is. */
  private producer: Promise<KafkaProducerLike & { disconnect(): Promise<void> }> | undefined;
  private readonly prefix: string;
  private readonly projectPrefix: string;
  private readonly maxMessageBytes: number;

  constructor(private readonly opts: KafkaTransportOptions) {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(opts.projectId))
      throw new Error(`kafka.projectId must be a project id (lower-case letters, digits, _ and -), got ${JSON.stringify(opts.projectId)}`);
    if (!opts.kafka && !opts.producer && !opts.brokers) throw new Error('kafka: give a client (kafka), a producer or brokers');
    this.prefix = opts.topicPrefix ?? 'tidemark.';
    this.projectPrefix = `{"project_id":${JSON.stringify(opts.projectId)},`;
    this.maxMessageBytes = opts.maxMessageBytes ?? 1024 * 1024;
  }

  private async makeKafka(): Promise<KafkaClientLike> {
    if (this.opts.kafka) return this.opts.kafka;
    let loaded: typeof import('kafkajs');
    try {
      loaded = await import('kafkajs');
    } catch (err) {
      throw new MissingKafkaJs(err);
    }
    // Loaded as CommonJS through import(): the names may sit on `default`.
    const mod = loaded.Kafka ? loaded : (loaded as unknown as { default: typeof import('kafkajs') }).default;
    const KafkaClass = mod.Kafka;
    const logLevel = mod.logLevel;
    const brokers = Array.isArray(this.opts.brokers)
      ? this.opts.brokers
      : String(this.opts.brokers)
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean);
    // kafkajs logs to the console by default; a library must stay quiet (failures reach onError instead).
    return new KafkaClass({
      clientId: this.opts.clientId ?? 'tidemark-sdk',
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
  }

  private connect(): Promise<KafkaProducerLike> {
    if (this.opts.producer) return Promise.resolve(this.opts.producer);
    this.producer ??= (async () => {
      const kafka = await this.makeKafka();
      // Idempotent with acks=all: the broker drops a produce kafkajs retried internally.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
      await producer.connect();
      return producer;
    })();
    // A failed connect is forgotten so the next attempt tries again.
    this.producer.catch(() => {
      this.producer = undefined;
    });
    return this.producer;
  }

  /** The item with project_id first. The item's own project_id, if any, comes later and wins in JSON.parse; the SDK never sets one. */
  private withProject(json: string): string {
    return json === '{}' ? `${this.projectPrefix.slice(0, -1)}}` : this.projectPrefix + json.slice(1);
  }

  private messages(batch: readonly QueueEntry[]): KafkaProduceRecord['messages'] {
    const byKey = new Map<string, string[]>();
    for (const e of batch) {
      const list = byKey.get(e.key);
      const json = this.withProject(e.json);
      if (list) list.push(json);
      else byKey.set(e.key, [json]);
    }
    const out: KafkaProduceRecord['messages'] = [];
    for (const [key, list] of byKey) {
      let chunk: string[] = [];
      let size = 2;
      for (const json of list) {
        if (chunk.length > 0 && size + json.length + 1 > this.maxMessageBytes) {
          out.push({ key: `${this.opts.projectId}:${key}`, value: `[${chunk.join(',')}]` });
          chunk = [];
          size = 2;
        }
        chunk.push(json);
        size += json.length + 1;
      }
      if (chunk.length > 0) out.push({ key: `${this.opts.projectId}:${key}`, value: `[${chunk.join(',')}]` });
    }
    return out;
  }

  async send(signal: SignalName, batch: readonly QueueEntry[], abort: AbortSignal): Promise<SendOutcome> {
    const topic = `${this.prefix}${signal}.v1`;
    try {
      const producer = await this.connect();
      const sending = producer.send({ topic, acks: -1, ...(this.opts.compression === 'none' ? {} : { compression: GZIP }), messages: this.messages(batch) });
      // kafkajs cannot cancel a produce: on abort the outcome is unknown and the batch is resent
      // (the same event ids, so raw counts by uniqExact(event_id) stay right).
      await new Promise<void>((resolve, reject) => {
        if (abort.aborted) return reject(new Error('aborted'));
        const onAbort = (): void => reject(new Error('aborted'));
        abort.addEventListener('abort', onAbort, { once: true });
        sending.then(
          () => {
            abort.removeEventListener('abort', onAbort);
            resolve();
          },
          (err: unknown) => {
            abort.removeEventListener('abort', onAbort);
            reject(err);
          },
        );
      });
      return { kind: 'ok', rejected: [] };
    } catch (raw) {
      const err = raw as KafkaLikeError;
      const error = new Error(`kafka ${topic}: ${err.message}`, { cause: raw });
      if (raw instanceof MissingKafkaJs) return { kind: 'fail', error };
      // kafkajs wraps the broker's answer after its own retries; look at the innermost protocol error.
      let inner: KafkaLikeError | undefined = err;
      for (let i = 0; i < 4 && inner; i++) {
        if (inner.type === 'MESSAGE_TOO_LARGE' || inner.type === 'RECORD_LIST_TOO_LARGE') return { kind: 'too_large', error };
        // Only a broker's explicit, permanent refusal (authorization, invalid record, ...) is final; everything else may heal.
        if (inner.name === 'KafkaJSProtocolError' && inner.retriable === false) return { kind: 'fail', error };
        inner = (inner.cause ?? (inner as { originalError?: KafkaLikeError }).originalError) as KafkaLikeError | undefined;
      }
      return { kind: 'retry', error };
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await p.then((producer) => producer.disconnect()).catch(() => undefined);
  }
}
