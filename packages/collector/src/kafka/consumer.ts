import type { Pool } from 'pg';
import {
  backoffDelay,
  classifyError,
  counter,
  gauge,
  groupLag,
  retry,
  type ClickHouse,
  type ConsumedBatch,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaProducer,
  type Logger,
  type Registry,
  type TidemarkError,
} from '@tidemark/core';
import { insertLines } from '../clickhouse/writer';
import { filterLanded } from '../dedup/landed';
import type { ResendWindow } from '../dedup/resend-window';
import { SIGNAL_SPECS, type SignalName } from '../signals';
import { decodeMessages, splitPiece, type DeadLetter, type InsertGroup, type Piece } from './decode';
import { IntentStore } from './intents';
import { ProjectDirectory } from './projects';
import { signalOfTopic, type Topics } from './topics';

export interface IngestConsumerOptions {
  kafka: KafkaClient;
  clickhouse: ClickHouse;
  meta: Pool;
  logger: Logger;
  metrics: Registry;
  topics: Topics;
  groupId: string;
  /** Fetch size per partition: the upper bound of one batch, and so of one insert. */
  maxBytesPerPartition: number;
  /** How long the broker may wait to fill a fetch: the time bound of a batch. */
  maxWaitMs: number;
  /** The broker answers a fetch once this many bytes are there (or maxWaitMs passed): the size bound of a batch. */
  minBytes: number;
  futureToleranceMs: number;
  retentionMs: number;
  /** How soon a crashed consumer's partitions are reassigned (ms). */
  sessionTimeoutMs?: number;
  /** Window of event ids landed recently (prefix `landed`): a second copy of an event within it is dropped. Absent: no dedup. */
  landed?: ResendWindow;
  /** Largest stored row of a direct producer's item (COLLECTOR_MAX_ITEM_BYTES); default 256 KiB, the collector's default. */
  maxItemBytes?: number;
}

/** Thrown inside a batch when the consumer is stopping: the batch is not committed and will be replayed. */
class Stopping extends Error {}

/**
 * The consumer group that lands Kafka messages in ClickHouse.
 *
 * Per partition batch:
 *   1. the offset range is fixed (a pending intent is replayed exactly, or a
 *      new intent is written to the metadata Postgres);
 *   2. messages are decoded; bad ones become dead letters with a reason;
 *   3. rows are inserted with a token derived from group/topic/partition/range
 *      (the same on every attempt, so ClickHouse drops repeats in the raw
 *      table and every rollup);
 *   4. dead letters are produced to the DLQ topic (acks=all);
 *   5. only then is the offset committed.
 * While ClickHouse is unavailable the consumer pauses its partitions and
 * retries with backoff; nothing is skipped or committed meanwhile.
 */
export class IngestConsumer {
  private readonly consumer: KafkaConsumer;
  private dlq: KafkaProducer | undefined;
  private readonly intents: IntentStore;
  private readonly projects: ProjectDirectory;
  private readonly log: Logger;
  private lagTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly m;

  constructor(private readonly opts: IngestConsumerOptions) {
    this.log = opts.logger;
    this.intents = new IntentStore(opts.meta, opts.groupId);
    this.projects = new ProjectDirectory(opts.meta);
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      maxBytesPerPartition: opts.maxBytesPerPartition,
      maxBytes: opts.maxBytesPerPartition * 3,
      minBytes: opts.minBytes,
      maxWaitMs: opts.maxWaitMs,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: Math.max(1_000, Math.floor((opts.sessionTimeoutMs ?? 10_000) / 5)),
    });
    const r = opts.metrics;
    this.m = {
      rows: counter(r, 'tidemark_ingest_rows_landed_total', 'Rows inserted into ClickHouse by the consumer', ['signal']),
      dead: counter(r, 'tidemark_ingest_dead_letters_total', 'Messages or items sent to the dead-letter topic', ['signal']),
      batches: counter(r, 'tidemark_ingest_batches_total', 'Batches landed and committed', ['signal']),
      insertFailures: counter(r, 'tidemark_ingest_insert_failures_total', 'ClickHouse insert attempts that failed', ['signal', 'retriable']),
      e2eLag: gauge(r, 'tidemark_ingest_end_to_end_lag_seconds', 'Seconds from collector receipt to ClickHouse commit, newest row of the last batch', [
        'signal',
      ]),
      consumerLag: gauge(r, 'tidemark_kafka_consumer_lag_messages', 'Messages behind the partition end', ['topic', 'partition']),
      paused: gauge(r, 'tidemark_ingest_paused', '1 while partitions are paused because ClickHouse is unavailable'),
      duplicates: counter(
        r,
        'tidemark_ingest_landing_duplicates_dropped_total',
        'Rows not landed because their event id landed within the window (a resend or a producer retry)',
        ['signal'],
      ),
    };
  }

  async start(): Promise<void> {
    const { kafka, topics } = this.opts;
    // A consumer whose client gave up (it could not rejoin the group) would leave the process
    // running with no consumer and the partitions unread: seen with the earlier client in a
    // crash test run where a consumer started while the broker restarted. Such a crash
    // restarts the consumer here; the uncommitted batch is replayed.
    this.consumer.onCrash(({ error, restart }) => {
      if (restart || this.stopped) return;
      this.log.error({ err: error.message }, 'Kafka consumer stopped on an error its client does not retry; starting it again in 5 s');
      this.scheduleRestart(5_000);
    });
    // The broker may be restarting when this process starts: retried like a store at startup.
    await retry(
      async () => {
        this.dlq ??= kafka.producer();
        await this.dlq.connect();
        await this.runConsumer();
      },
      {
        retries: 12,
        initialDelayMs: 500,
        maxDelayMs: 10_000,
        dependency: 'kafka',
        onRetry: (err, attempt, delayMs) => this.log.warn({ err: err.message, attempt, delayMs }, 'Kafka not reachable at consumer start; retrying'),
      },
    );
    this.lagTimer = setInterval(() => void this.reportLag().catch((err: unknown) => this.log.debug({ err }, 'lag report failed')), 10_000);
    this.lagTimer.unref();
    this.log.info({ groupId: this.opts.groupId, topics: [topics.events, topics.metrics, topics.logs] }, 'ingest consumer running');
  }

  private async runConsumer(): Promise<void> {
    const { topics } = this.opts;
    // Manual commits only, one partition's batch at a time (the interface's contract).
    await this.consumer.run({ topics: [topics.events, topics.metrics, topics.logs], fromBeginning: true, eachBatch: (batch) => this.onBatch(batch) });
  }

  private scheduleRestart(delayMs: number): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.runConsumer().then(
        () => this.log.info('Kafka consumer running again'),
        (err: unknown) => {
          this.log.error({ err: (err as Error).message }, 'Kafka consumer did not start again; next try in 10 s');
          void this.consumer.disconnect().catch(() => undefined);
          this.scheduleRestart(10_000);
        },
      );
    }, delayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.lagTimer);
    await this.consumer.disconnect();
    await this.dlq?.disconnect();
  }

  private async onBatch(batch: ConsumedBatch): Promise<void> {
    const signal = signalOfTopic(this.opts.topics, batch.topic);
    if (!signal || batch.records.length === 0) return;
    const { topic, partition, resolveOffset, heartbeat, isRunning, isStale } = batch;
    const first = BigInt(batch.firstOffset);
    let last = BigInt(batch.lastOffset);
    let messages = batch.records;

    const intent = await this.intents.get(topic, partition);
    if (intent && intent.first === first) {
      // A batch that was started but not committed: the same range, whatever this fetch returned.
      if (last < intent.last)
        throw new Error(
          `replaying ${topic}[${partition}] ${intent.first}-${intent.last} needs more messages than this fetch returned (up to ${last}); refetching`,
        );
      messages = messages.filter((msg) => BigInt(msg.offset) <= intent.last);
      last = intent.last;
    } else {
      await this.intents.put(topic, partition, { first, last });
    }
    const token = `${this.opts.groupId}:${topic}:${partition}:${first}-${last}`;
    const limits = { ...(this.opts.maxItemBytes !== undefined ? { maxItemBytes: this.opts.maxItemBytes } : {}) };
    let decoded = decodeMessages(signal, messages, this.opts.futureToleranceMs, this.opts.retentionMs, limits);
    // Items of projects that do not exist are refused, as HTTP refuses their keys. Decoded
    // again only when the batch names one (rare), so the common batch is parsed once.
    if (decoded.projects.size > 0) {
      const unknownProjects = await this.projects.unknown(decoded.projects);
      if (unknownProjects.size > 0)
        decoded = decodeMessages(signal, messages, this.opts.futureToleranceMs, this.opts.retentionMs, { ...limits, unknownProjects });
    }
    // Exactly once by event id: second copies (a resend after a 503 whose first send was written) are dropped.
    const unique = this.opts.landed
      ? await filterLanded(this.opts.landed, decoded.groups)
      : { groups: decoded.groups, dropped: 0, landed: new Map<string, string[]>() };
    const guard = { heartbeat, isRunning, isStale };
    const dead: DeadLetter[] = [...decoded.dead];
    let refused = 0;
    for (const [i, group] of unique.groups.entries()) {
      // The first group keeps the plain token; a replay decodes the same groups in the same order.
      const refusedRows = await this.land(signal, group, group.pieces, i === 0 ? token : `${token}:g${i}`, guard);
      for (const d of refusedRows) {
        dead.push(d);
        if (group.table === SIGNAL_SPECS[signal].table) refused++;
      }
    }
    // Remembered once landed, before the commit: a replay after a crash here drops its own rows, which landed.
    if (this.opts.landed) await Promise.all([...unique.landed].map(([project, ids]) => this.opts.landed!.remember(project, ids)));
    if (dead.length > 0) await this.sendDeadLetters(signal, topic, partition, dead);

    resolveOffset(last.toString());
    await this.consumer.commit([{ topic, partition, offset: (last + 1n).toString() }]);
    await heartbeat();
    this.m.rows.inc({ signal }, decoded.rows - unique.dropped - refused);
    if (unique.dropped > 0) this.m.duplicates.inc({ signal }, unique.dropped);
    this.m.batches.inc({ signal });
    if (decoded.newestReceivedAt > 0) this.m.e2eLag.set({ signal }, Math.max(0, (Date.now() - decoded.newestReceivedAt) / 1000));
  }

  /**
   * Inserts pieces with the batch's token. Transient failures are retried
   * until they pass (partitions paused meanwhile); a failure ClickHouse calls
   * permanent splits the pieces in halves with derived tokens (by message,
   * then by line), down to single rows, which are returned as dead letters.
   * Splitting is deterministic, so a replay after a crash produces the same
   * tokens.
   */
  private async land(
    signal: SignalName,
    group: InsertGroup,
    pieces: readonly Piece[],
    token: string,
    guard: { heartbeat(): Promise<void>; isRunning(): boolean; isStale(): boolean },
  ): Promise<DeadLetter[]> {
    if (pieces.length === 0) return [];
    for (let attempt = 0; ; attempt++) {
      try {
        await insertLines(
          this.opts.clickhouse,
          group.table,
          group.columns,
          pieces.map((p) => p.data),
          token,
        );
        if (this.paused) this.resumeAll();
        return [];
      } catch (raw) {
        const err: TidemarkError = classifyError(raw, 'clickhouse');
        this.m.insertFailures.inc({ signal, retriable: String(err.retriable) });
        if (!err.retriable) {
          const rows = pieces.reduce((n, p) => n + p.rows, 0);
          if (rows <= 1) return pieces.map((p) => ({ offset: p.offset, value: p.data, reason: `ClickHouse refused the row: ${err.message}` }));
          const [left, right] =
            pieces.length > 1
              ? [pieces.slice(0, Math.ceil(pieces.length / 2)), pieces.slice(Math.ceil(pieces.length / 2))]
              : splitPiece(pieces[0]!).map((p) => [p]);
          this.log.warn({ table: group.table, rows, err: err.message }, 'insert refused; splitting the batch to isolate bad rows');
          return [...(await this.land(signal, group, left!, `${token}/0`, guard)), ...(await this.land(signal, group, right!, `${token}/1`, guard))];
        }
        if (!guard.isRunning() || guard.isStale()) throw new Stopping('consumer stopping or partition reassigned; the batch will be replayed');
        this.pauseAll();
        const delay = backoffDelay(attempt, { initialDelayMs: 200, maxDelayMs: 5_000, jitter: 0.5 });
        this.log.warn({ table: group.table, attempt, delayMs: delay, err: err.message }, 'ClickHouse unavailable; partitions paused, retrying');
        await new Promise((r) => setTimeout(r, delay));
        await guard.heartbeat();
      }
    }
  }

  private pauseAll(): void {
    if (this.paused) return;
    this.paused = true;
    this.m.paused.set(1);
    const { events, metrics, logs } = this.opts.topics;
    this.consumer.pause([events, metrics, logs]);
  }

  private resumeAll(): void {
    this.paused = false;
    this.m.paused.set(0);
    const { events, metrics, logs } = this.opts.topics;
    this.consumer.resume([events, metrics, logs]);
    this.log.info('ClickHouse reachable again; partitions resumed');
  }

  private async sendDeadLetters(signal: SignalName, topic: string, partition: number, dead: DeadLetter[]): Promise<void> {
    const dlq = this.dlq!;
    try {
      await this.produceDeadLetters(dlq, topic, partition, dead);
    } catch (err) {
      // The idempotent producer's sequence numbers are unknown after a failed send (the
      // KafkaSink's reason, docs/ingestion.md "Broker failures"): a new producer id for the
      // next try. The batch is not committed and will be replayed.
      this.dlq = this.opts.kafka.producer();
      void dlq.disconnect().catch(() => undefined);
      await this.dlq.connect().catch(() => undefined);
      throw err;
    }
    this.m.dead.inc({ signal }, dead.length);
    this.log.warn({ topic, partition, count: dead.length, firstReason: dead[0]?.reason }, 'sent to the dead-letter topic');
  }

  private async produceDeadLetters(dlq: KafkaProducer, topic: string, partition: number, dead: DeadLetter[]): Promise<void> {
    // acks=all, as every send of the interface's producer.
    await dlq.send([
      {
        topic: this.opts.topics.dlq,
        records: dead.map((d) => ({
          key: `${topic}:${partition}:${d.offset}${d.index !== undefined ? `:${d.index}` : ''}`,
          value: d.value,
          headers: {
            'tidemark-source-topic': topic,
            'tidemark-source-partition': String(partition),
            'tidemark-source-offset': d.offset,
            ...(d.index !== undefined ? { 'tidemark-source-index': String(d.index) } : {}),
            'tidemark-reason': d.reason.slice(0, 1000),
          },
        })),
      },
    ]);
  }

  /** Consumer lag per partition: end offset minus committed offset (core's groupLag). */
  async reportLag(): Promise<{ topic: string; partition: number; lag: number }[]> {
    const admin = this.opts.kafka.admin();
    await admin.connect();
    try {
      const { events, metrics, logs } = this.opts.topics;
      const out = await groupLag(admin, this.opts.groupId, [events, metrics, logs]);
      for (const p of out) this.m.consumerLag.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
      return out;
    } finally {
      await admin.disconnect();
    }
  }
}
