import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { classifyError, UnavailableError, type Logger } from '@tidemark/core';
import { partitionOfKey } from '../kafka/partition';
import { COLUMNS_HEADER, FORMAT_HEADER, RECEIVED_AT_HEADER, ROWS_FORMAT, WARNINGS_FORMAT, type Topics } from '../kafka/topics';
import { compactLine, SIGNAL_SPECS, WARNING_COLUMNS, type RowOf, type SignalName, type WarningRow } from '../signals';
import type { Sink } from './types';

export interface KafkaSinkOptions {
  topics: Topics;
  compression: 'none' | 'gzip';
  /** Upper bound of one message's value; below the broker's message.max.bytes. */
  maxMessageBytes: number;
  /** How often the partition counts of the topics are re-read (ms). */
  metadataRefreshMs?: number;
}

/**
 * Kafka mode: each row's partition is chosen from its key with Kafka's
 * default partitioner (one user's events share a partition and so stay
 * ordered), and the rows of a request are packed into one rows-v2 message
 * per partition (several when one would exceed maxMessageBytes). A request
 * of 1,000 events becomes a handful of messages, not 1,000. They are sent
 * with acks=all by an idempotent producer; `write` resolves when Kafka
 * acknowledged every message.
 */
export class KafkaSink implements Sink {
  readonly kind = 'kafka' as const;
  private readonly partitions = new Map<string, number>();
  private refreshTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly opts: KafkaSinkOptions,
  ) {}

  static async connect(kafka: Kafka, opts: KafkaSinkOptions, logger: Logger): Promise<KafkaSink> {
    // Idempotent: a retried produce is written once; acks=all on every send.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
    producer.on('producer.disconnect', () => logger.warn('Kafka producer disconnected'));
    await producer.connect();
    const sink = new KafkaSink(kafka, producer, opts);
    await sink.refreshPartitions();
    sink.refreshTimer = setInterval(() => {
      sink.refreshPartitions().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not re-read topic partition counts; keeping the last ones'));
    }, opts.metadataRefreshMs ?? 60_000);
    sink.refreshTimer.unref();
    return sink;
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
      const md = await admin.fetchTopicMetadata({ topics: [events, metrics, logs] });
      for (const t of md.topics) if (t.partitions.length > 0) this.partitions.set(t.name, t.partitions.length);
    } finally {
      await admin.disconnect();
    }
  }

  async write<S extends SignalName>(signal: S, rows: RowOf[S][], lines: readonly string[], warnings: WarningRow[]): Promise<void> {
    if (rows.length === 0) return;
    const spec = SIGNAL_SPECS[signal];
    const topic = this.opts.topics[signal];
    const count = this.partitions.get(topic);
    if (count === undefined) throw new UnavailableError(`Kafka topic ${topic} has no known partitions`, { context: { dependency: 'kafka' }, retryAfterMs: 1_000 });
    // Every row of a request carries the same receive time.
    const receivedAt = String(Date.parse(`${rows[0]!.received_at.replace(' ', 'T')}Z`));
    const max = this.opts.maxMessageBytes;
    const messages: Message[] = [];
    const open = new Map<number, { lines: string[]; bytes: number }>();
    const rowHeaders = { [FORMAT_HEADER]: ROWS_FORMAT, [COLUMNS_HEADER]: spec.columns.join(','), [RECEIVED_AT_HEADER]: receivedAt };
    const emit = (partition: number, lines: string[]): void => {
      messages.push({ partition, headers: rowHeaders, value: lines.join('') });
    };
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const partition = partitionOfKey(spec.key(row as never), count);
      const line = lines[i]!;
      const bytes = Buffer.byteLength(line);
      let m = open.get(partition);
      if (m && m.bytes + bytes > max && m.lines.length > 0) {
        emit(partition, m.lines);
        m = undefined;
      }
      if (!m) open.set(partition, (m = { lines: [], bytes: 0 }));
      m.lines.push(line);
      m.bytes += bytes;
    }
    let firstPartition: number | undefined;
    for (const [partition, m] of open) {
      firstPartition ??= partition;
      emit(partition, m.lines);
    }
    if (warnings.length > 0) {
      messages.push({
        partition: firstPartition!,
        headers: { [FORMAT_HEADER]: WARNINGS_FORMAT, [COLUMNS_HEADER]: WARNING_COLUMNS.join(','), [RECEIVED_AT_HEADER]: receivedAt },
        value: warnings.map((w) => compactLine(WARNING_COLUMNS, w)).join(''),
      });
    }
    try {
      await this.producer.send({
        topic,
        acks: -1,
        compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages,
      });
    } catch (err) {
      throw classifyError(err, 'kafka');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.producer.disconnect();
  }
}

/** Creates the topics of the contract if they do not exist (partitions and replication from config). */
export async function ensureTopics(kafka: Kafka, topics: Topics, partitions: number, replicationFactor: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = Object.values(topics).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(Math.min(2, Math.max(1, replicationFactor - 1))) }],
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
