import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { classifyError, type Logger } from '@tidemark/core';
import { FORMAT_HEADER, ROWS_FORMAT, type Topics } from '../kafka/topics';
import { SIGNAL_SPECS, type RowOf, type SignalName, type WarningRow } from '../signals';
import type { Sink } from './types';

export interface KafkaSinkOptions {
  topics: Topics;
  compression: 'none' | 'gzip';
  /** Upper bound of one message's value; below the broker's message.max.bytes. */
  maxMessageBytes: number;
}

/**
 * Kafka mode: rows are grouped by key (one user's events share a key and so a
 * partition, which keeps them ordered) into messages of at most
 * maxMessageBytes, and sent with acks=all by an idempotent producer. `write`
 * resolves when Kafka acknowledged every message.
 */
export class KafkaSink implements Sink {
  readonly kind = 'kafka' as const;
  private constructor(
    private readonly producer: Producer,
    private readonly opts: KafkaSinkOptions,
  ) {}

  static async connect(kafka: Kafka, opts: KafkaSinkOptions, logger: Logger): Promise<KafkaSink> {
    // Idempotent: a retried produce is written once; acks=all on every send.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
    producer.on('producer.disconnect', () => logger.warn('Kafka producer disconnected'));
    await producer.connect();
    return new KafkaSink(producer, opts);
  }

  async write<S extends SignalName>(signal: S, rows: RowOf[S][], warnings: WarningRow[]): Promise<void> {
    if (rows.length === 0) return;
    const spec = SIGNAL_SPECS[signal];
    const byKey = new Map<string, string[]>();
    for (const row of rows) {
      const k = spec.key(row as never);
      const list = byKey.get(k);
      const json = JSON.stringify(row);
      if (list) list.push(json);
      else byKey.set(k, [json]);
    }
    const headers = { [FORMAT_HEADER]: ROWS_FORMAT };
    const messages: Message[] = [];
    let warningsJson = warnings.length > 0 ? warnings.map((w) => JSON.stringify(w)).join(',') : '';
    for (const [key, list] of byKey) {
      let chunk: string[] = [];
      let size = 0;
      const push = (): void => {
        // Warnings ride with the first message of the request.
        messages.push({ key, headers, value: `{"rows":[${chunk.join(',')}],"warnings":[${warningsJson}]}` });
        warningsJson = '';
        chunk = [];
        size = 0;
      };
      for (const json of list) {
        if (size + json.length > this.opts.maxMessageBytes && chunk.length > 0) push();
        chunk.push(json);
        size += json.length + 1;
      }
      if (chunk.length > 0) push();
    }
    try {
      await this.producer.send({
        topic: this.opts.topics[signal],
        acks: -1,
        compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages,
      });
    } catch (err) {
      throw classifyError(err, 'kafka');
    }
  }

  async close(): Promise<void> {
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
