import { classifyError, retry, UnavailableError, type KafkaClient, type KafkaProducer, type Logger, type OutgoingRecord } from '@tidemark/core';
import { partitionOfKey } from '../kafka/partition';
import { COLUMNS_HEADER, FORMAT_HEADER, RECEIVED_AT_HEADER, ROWS_FORMAT, WARNINGS_FORMAT, type Topics } from '../kafka/topics';
import { compactLine, SIGNAL_SPECS, WARNING_COLUMNS, type RowOf, type SignalName, type WarningRow } from '../signals';
import { MicroBatcher } from './batcher';
import type { Sink } from './types';

export interface KafkaSinkOptions {
  topics: Topics;
  compression: 'none' | 'gzip';
  /** Upper bound of one message's value; below the broker's message.max.bytes. Also the byte budget of one produce request. */
  maxMessageBytes: number;
  /** How often the partition counts of the topics are re-read (ms). */
  metadataRefreshMs?: number;
  /**
   * A produce not acknowledged within this long is answered 503 (retriable)
   * and its producer is abandoned (ms, default 8,000: below the SDK's
   * 10 s request timeout, so the client hears 503 instead of timing out).
   */
  sendTimeoutMs?: number;
  /** Message bytes that may wait for Kafka; beyond it requests get 503 (default 64 MiB). */
  maxPendingBytes?: number;
}

/** One message bound for a topic, weighed by its bytes. */
interface Outgoing {
  topic: string;
  message: OutgoingRecord;
  bytes: number;
}

/**
 * Kafka mode: each row's partition is chosen from its key with Kafka's
 * default partitioner (one user's events share a partition and so stay
 * ordered), and the rows of a request are packed into one rows-v2 message
 * per partition (several when one would exceed maxMessageBytes). A request
 * of 1,000 events becomes a handful of messages, not 1,000. `write`
 * resolves when Kafka acknowledged every message with acks=all.
 *
 * One produce at a time (issue 12). The producer is idempotent: the broker
 * drops a batch whose producer id and sequence numbers it already holds and
 * answers it as a success. The client (kafkajs, where this was measured) gave a batch its sequence numbers when
 * it sends it and takes them back when the request fails; with several sends
 * in flight, another send then takes the same numbers for different data.
 * If the failed request had in fact been written (the broker was killed or
 * restarted after appending it, before answering), the broker answers that
 * other send "duplicate, at offset N": acknowledged, never written. The
 * first send's retry is then written under new numbers, a second copy. That
 * is the loss and the duplicates of the broker-restart crash test, measured
 * with the acknowledged offsets pointing at another request's data. So:
 *  - concurrent requests are coalesced (group commit) and sent by one
 *    producer.sendBatch at a time (MicroBatcher, one flush in flight): a
 *    retry inside the client resends the same batches with the same numbers,
 *    which the broker deduplicates exactly;
 *  - a send that fails or times out leaves the producer's numbers unknown,
 *    so that producer is abandoned (disconnected once its send settles) and
 *    the next flush gets a new producer id, whose numbers cannot collide.
 *    The failed requests get 503 and nothing is remembered; what the failed
 *    send may have written is dropped at landing by event id (the consumer's
 *    landed-id window), so the client's resend does not double it.
 */
export class KafkaSink implements Sink {
  readonly kind = 'kafka' as const;
  private readonly partitions = new Map<string, number>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private producer: KafkaProducer | undefined;
  private connecting: Promise<KafkaProducer> | undefined;
  private readonly batcher: MicroBatcher<Outgoing>;
  private readonly abandoned = new Set<Promise<unknown>>();
  /** Producers created so far (1 + how many were abandoned after a failed send). */
  producerGeneration = 0;

  private constructor(
    private readonly kafka: KafkaClient,
    private readonly opts: KafkaSinkOptions,
    private readonly logger: Logger,
  ) {
    this.batcher = new MicroBatcher<Outgoing>((out) => this.flush(out), {
      maxRows: opts.maxMessageBytes,
      maxDelayMs: 1,
      maxPendingRows: opts.maxPendingBytes ?? 64 * 1024 * 1024,
      // The invariant this sink rests on: never two sends in flight.
      maxConcurrentFlushes: 1,
      weight: (o) => o.bytes,
      dependency: 'kafka',
    });
  }

  static async connect(kafka: KafkaClient, opts: KafkaSinkOptions, logger: Logger): Promise<KafkaSink> {
    const sink = new KafkaSink(kafka, opts, logger);
    await sink.currentProducer();
    await sink.refreshPartitions();
    sink.refreshTimer = setInterval(() => {
      sink
        .refreshPartitions()
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not re-read topic partition counts; keeping the last ones'));
    }, opts.metadataRefreshMs ?? 60_000);
    sink.refreshTimer.unref();
    return sink;
  }

  /** The producer of the next send; a new one (new producer id) after a failed send. */
  private async currentProducer(): Promise<KafkaProducer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      // Idempotent, acks=all on every send, one request in flight (the interface's producer).
      const p = this.kafka.producer({ allowAutoTopicCreation: false });
      try {
        await p.connect();
      } catch (err) {
        void p.disconnect().catch(() => undefined);
        throw classifyError(err, 'kafka');
      }
      this.producerGeneration++;
      this.producer = p;
      return p;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Stops using a producer whose sequence numbers may no longer match the broker's; it is disconnected once its send settles. */
  private abandon(p: KafkaProducer, sending: Promise<unknown>, err: unknown): void {
    if (this.producer === p) this.producer = undefined;
    this.logger.warn(
      { err: (err as Error).message, generation: this.producerGeneration },
      'Kafka send failed or timed out; abandoning this producer (its sequence numbers are unknown), the next send uses a new producer id',
    );
    const done: Promise<unknown> = sending
      .catch(() => undefined)
      .then(() => p.disconnect())
      .catch(() => undefined)
      .finally(() => this.abandoned.delete(done));
    this.abandoned.add(done);
  }

  /** One produce request for everything coalesced: all acknowledged with acks=all, or an error for all. */
  private async flush(out: Outgoing[]): Promise<void> {
    const producer = await this.currentProducer();
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const o of out) {
      let list = byTopic.get(o.topic);
      if (!list) byTopic.set(o.topic, (list = []));
      list.push(o.message);
    }
    const sending = producer.send(
      [...byTopic].map(([topic, records]) => ({ topic, records })),
      { compression: this.opts.compression },
    );
    const ms = this.opts.sendTimeoutMs ?? 8_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UnavailableError(`Kafka did not acknowledge the write within ${ms} ms; nothing was acknowledged, retry`, {
              context: { dependency: 'kafka' },
              retryAfterMs: 2_000,
            }),
          ),
        ms,
      );
    });
    try {
      await Promise.race([sending, timeout]);
    } catch (err) {
      this.abandon(producer, sending, err);
      throw classifyError(err, 'kafka');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Partition counts of the signal topics (they can grow; a key then maps as
   * Kafka's own partitioner would map it). A short-lived admin connection
   * each time: nothing idle is left to reconnect while a broker restarts.
   */
  private async refreshPartitions(): Promise<void> {
    const { events, metrics, logs } = this.opts.topics;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const md = await admin.topicMetadata([events, metrics, logs]);
      for (const t of md) if (t.partitions.length > 0) this.partitions.set(t.topic, t.partitions.length);
    } finally {
      await admin.disconnect();
    }
  }

  async write<S extends SignalName>(signal: S, rows: RowOf[S][], lines: readonly string[], warnings: WarningRow[]): Promise<void> {
    if (rows.length === 0) return;
    const spec = SIGNAL_SPECS[signal];
    const topic = this.opts.topics[signal];
    const count = this.partitions.get(topic);
    if (count === undefined)
      throw new UnavailableError(`Kafka topic ${topic} has no known partitions`, { context: { dependency: 'kafka' }, retryAfterMs: 1_000 });
    // Every row of a request carries the same receive time.
    const receivedAt = String(Date.parse(`${rows[0]!.received_at.replace(' ', 'T')}Z`));
    const max = this.opts.maxMessageBytes;
    const out: Outgoing[] = [];
    const open = new Map<number, { lines: string[]; bytes: number }>();
    const rowHeaders = { [FORMAT_HEADER]: ROWS_FORMAT, [COLUMNS_HEADER]: spec.columns.join(','), [RECEIVED_AT_HEADER]: receivedAt };
    const emit = (partition: number, m: { lines: string[]; bytes: number }): void => {
      out.push({ topic, message: { partition, headers: rowHeaders, value: m.lines.join('') }, bytes: m.bytes });
    };
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const partition = partitionOfKey(spec.key(row as never), count);
      const line = lines[i]!;
      const bytes = Buffer.byteLength(line);
      let m = open.get(partition);
      if (m && m.bytes + bytes > max && m.lines.length > 0) {
        emit(partition, m);
        m = undefined;
      }
      if (!m) open.set(partition, (m = { lines: [], bytes: 0 }));
      m.lines.push(line);
      m.bytes += bytes;
    }
    let firstPartition: number | undefined;
    for (const [partition, m] of open) {
      firstPartition ??= partition;
      emit(partition, m);
    }
    if (warnings.length > 0) {
      const value = warnings.map((w) => compactLine(WARNING_COLUMNS, w)).join('');
      out.push({
        topic,
        message: {
          partition: firstPartition!,
          headers: { [FORMAT_HEADER]: WARNINGS_FORMAT, [COLUMNS_HEADER]: WARNING_COLUMNS.join(','), [RECEIVED_AT_HEADER]: receivedAt },
          value,
        },
        bytes: Buffer.byteLength(value),
      });
    }
    // Resolves when the coalesced send holding every message of this request was acknowledged.
    await this.batcher.add(out);
  }

  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.batcher.drain();
    await Promise.all([...this.abandoned]);
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}

/** Creates the topics of the contract if they do not exist (partitions and replication from config). */
export async function ensureTopics(kafka: KafkaClient, topics: Topics, partitions: number, replicationFactor: number): Promise<void> {
  // A broker that just (re)started answers metadata with UNKNOWN_TOPIC_OR_PARTITION
  // or no leader for a moment: retried; each attempt creates only what is still missing.
  await retry(() => createMissingTopics(kafka, topics, partitions, replicationFactor), {
    retries: 6,
    initialDelayMs: 500,
    maxDelayMs: 5_000,
    dependency: 'kafka',
  });
}

async function createMissingTopics(kafka: KafkaClient, topics: Topics, partitions: number, replicationFactor: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = Object.values(topics).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics(
        missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor,
          config: { 'min.insync.replicas': String(Math.min(2, Math.max(1, replicationFactor - 1))) },
        })),
      );
    }
  } finally {
    await admin.disconnect();
  }
}
