import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  baseOptions,
  brokerErrors,
  loadPlatformatic,
  type PltConsumer,
  type PltFetchResponse,
  type PltMetadata,
  type PltRecordsBatch,
} from './platformatic-load';
import type { ConsumedBatch, ConsumedRecord, ConsumerOptions, KafkaClientOptions, KafkaConsumer } from './types';

/**
 * The interface's consumer on @platformatic/kafka: a group member (the
 * client joins, syncs and heartbeats in the background) whose fetch loop is
 * this file's, so the interface's contract holds by construction rather than
 * through the client's message stream:
 *
 * - a batch is one partition's part of one fetch response, handed over one at
 *   a time; a fetch starts at the partition's position, which only
 *   `resolveOffset` moves (or, on assignment, the committed offset);
 * - a handler that throws leaves the position where it was: the same range is
 *   fetched again after a pause (the consumer replays a pending intent over
 *   exactly its range, collector/src/kafka/consumer.ts);
 * - nothing is committed but by `commit`, and only for partitions this member
 *   holds now: the client rejoins a rebalancing group by itself, even while a
 *   handler runs, and would commit a revoked partition under the new
 *   generation;
 * - a rebalance drops every position (the next fetch reads the committed
 *   offsets again) and makes `isStale` true for a batch whose partition left.
 */

/** A record batch holding transaction markers only (attribute bit 5): no records for the handler. */
const CONTROL_BATCH = 0x20;
const EARLIEST = -2n;
const LATEST = -1n;

const sleep = (ms: number) => delay(ms, undefined, { ref: false });
const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

type EachBatch = (batch: ConsumedBatch) => Promise<void>;

function toRecords(batches: PltRecordsBatch[], from: bigint): { records: ConsumedRecord[]; end: bigint } {
  const records: ConsumedRecord[] = [];
  let end = from;
  for (const b of batches) {
    end = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
    if (b.attributes & CONTROL_BATCH) continue;
    for (const r of b.records) {
      const offset = b.firstOffset + BigInt(r.offsetDelta);
      // A fetch answers with whole record batches: the first may start before the position.
      if (offset < from) continue;
      const headers: Record<string, Buffer | Buffer[]> = {};
      for (const [k, v] of r.headers) {
        if (k === null) continue;
        const name = k.toString();
        const value = v ?? Buffer.alloc(0);
        const had = headers[name];
        headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
      }
      records.push({ offset: offset.toString(), timestamp: (b.firstTimestamp + r.timestampDelta).toString(), key: r.key, value: r.value, headers });
    }
  }
  return { records, end };
}

export class PlatformaticConsumer implements KafkaConsumer {
  private consumer: PltConsumer | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Bumped on every (re)join: positions read before it are void. */
  private generation = 0;
  /** Next offset to fetch per partition this member holds; filled from the committed offsets after each join. */
  private readonly positions = new Map<string, bigint>();
  private readonly paused = new Set<string>();
  private readonly crashListeners: ((e: { error: Error; restart: boolean }) => void)[] = [];

  constructor(
    private readonly opts: KafkaClientOptions,
    private readonly c: ConsumerOptions,
    private readonly logger: Logger,
  ) {}

  async run(opts: { topics: string[]; fromBeginning: boolean; eachBatch: EachBatch }): Promise<void> {
    await this.stopLoop();
    const plt = await loadPlatformatic();
    const consumer = new plt.Consumer({
      // A JoinGroup request waits at the broker until the group has rebalanced: longer than other requests.
      ...baseOptions(this.opts, 30_000),
      groupId: this.c.groupId,
      sessionTimeout: this.c.sessionTimeoutMs,
      heartbeatInterval: this.c.heartbeatIntervalMs,
      autocommit: false,
      minBytes: this.c.minBytes,
      maxBytes: this.c.maxBytes,
      maxBytesPerPartition: this.c.maxBytesPerPartition,
      maxWaitTime: this.c.maxWaitMs,
      autocreateTopics: false,
    });
    consumer.on('consumer:group:join', (p) => {
      this.generation++;
      this.positions.clear();
      this.logger.debug({ generation: p.generationId, assignments: p.assignments }, 'Kafka consumer joined its group');
    });
    // The client emits an error when it could not rejoin the group: this member is gone, and says so.
    consumer.on('error', (error) => {
      if (this.consumer !== consumer || !this.running) return;
      this.running = false;
      for (const l of this.crashListeners) l({ error, restart: false });
    });
    this.consumer = consumer;
    try {
      consumer.topics.trackAll(...opts.topics);
      await consumer.joinGroup({});
    } catch (err) {
      this.consumer = undefined;
      await consumer.close(true).catch(() => undefined);
      throw err;
    }
    this.running = true;
    this.loop = this.fetchLoop(consumer, opts.fromBeginning, opts.eachBatch);
  }

  private async fetchLoop(c: PltConsumer, fromBeginning: boolean, eachBatch: EachBatch): Promise<void> {
    let failures = 0;
    while (this.running && this.consumer === c) {
      try {
        const handled = await this.fetchOnce(c, fromBeginning, eachBatch);
        failures = 0;
        if (!handled) await sleep(50);
      } catch (err) {
        if (!this.running) return;
        failures++;
        const delay = Math.min(5_000, 100 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
        this.logger.warn(
          { err: (err as Error).message, attempt: failures, delayMs: Math.round(delay) },
          'Kafka fetch or batch failed; fetching the same offsets again',
        );
        c.clearMetadata();
        await sleep(delay);
      }
    }
  }

  /** The partitions this member holds now, of topics not paused. */
  private held(c: PltConsumer): { topic: string; partitions: number[] }[] {
    return (c.assignments ?? []).filter((a) => a.partitions.length > 0 && !this.paused.has(a.topic));
  }

  private holds(topic: string, partition: number): boolean {
    return this.consumer?.assignments?.some((a) => a.topic === topic && a.partitions.includes(partition)) ?? false;
  }

  /** One fetch of every held partition (one request per leader) and its batches handed over; false when there was nothing to fetch. */
  private async fetchOnce(c: PltConsumer, fromBeginning: boolean, eachBatch: EachBatch): Promise<boolean> {
    const generation = this.generation;
    const held = this.held(c);
    if (held.length === 0) return false;
    await this.fillPositions(c, held, fromBeginning, generation);
    if (generation !== this.generation) return true;
    const md = await c.metadata({ topics: held.map((h) => h.topic) });
    const byLeader = new Map<number, { topic: string; partition: number; offset: bigint }[]>();
    for (const { topic, partitions } of held) {
      for (const partition of partitions) {
        const leader = md.topics.get(topic)?.partitions[partition]?.leader;
        const offset = this.positions.get(key(topic, partition));
        if (leader === undefined || leader < 0 || offset === undefined) continue;
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), { topic, partition, offset }]);
      }
    }
    // One leader that fails (killed, moved) does not hold back the others' batches; its error is thrown after them.
    const settled = await Promise.allSettled([...byLeader].map(([leader, parts]) => this.fetchFrom(c, md, leader, parts)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const fetched = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    for (const { topic, partition, from, batches } of fetched) {
      if (!this.running || generation !== this.generation) break;
      if (this.paused.has(topic)) continue;
      const { records, end } = toRecords(batches, from);
      const k = key(topic, partition);
      if (records.length === 0) {
        // Only transaction markers (or records before the position): step over them.
        if (end > from) this.positions.set(k, end);
        continue;
      }
      await eachBatch({
        topic,
        partition,
        records,
        firstOffset: records[0]!.offset,
        lastOffset: records[records.length - 1]!.offset,
        resolveOffset: (offset) => {
          if (generation === this.generation) this.positions.set(k, BigInt(offset) + 1n);
        },
        heartbeat: () => Promise.resolve(), // the client heartbeats in the background
        isRunning: () => this.running,
        isStale: () => generation !== this.generation && !this.holds(topic, partition),
      });
    }
    if (failed) throw failed.reason;
    return true;
  }

  private async fetchFrom(
    c: PltConsumer,
    md: PltMetadata,
    leader: number,
    parts: { topic: string; partition: number; offset: bigint }[],
  ): Promise<{ topic: string; partition: number; from: bigint; batches: PltRecordsBatch[] }[]> {
    const ids = new Map<string, string>();
    const topics = new Map<string, { topicId: string; partitions: Parameters<PltConsumer['fetch']>[0]['topics'][number]['partitions'] }>();
    for (const p of parts) {
      const id = md.topics.get(p.topic)!.id;
      ids.set(id, p.topic);
      const t = topics.get(id) ?? { topicId: id, partitions: [] };
      t.partitions.push({
        partition: p.partition,
        fetchOffset: p.offset,
        partitionMaxBytes: this.c.maxBytesPerPartition,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
      topics.set(id, t);
    }
    let response: PltFetchResponse;
    try {
      response = await c.fetch({
        node: leader,
        topics: [...topics.values()],
        minBytes: this.c.minBytes,
        maxBytes: this.c.maxBytes,
        maxWaitTime: this.c.maxWaitMs,
      });
    } catch (err) {
      if (brokerErrors(err).includes('OFFSET_OUT_OF_RANGE')) await this.skipExpired(c, parts);
      throw err;
    }
    const from = new Map(parts.map((p) => [key(p.topic, p.partition), p.offset]));
    return response.responses.flatMap((t) =>
      t.partitions
        .filter((p) => p.errorCode === 0 && p.records && p.records.length > 0)
        .map((p) => {
          const topic = ids.get(t.topicId)!;
          return { topic, partition: p.partitionIndex, from: from.get(key(topic, p.partitionIndex))!, batches: p.records! };
        }),
    );
  }

  /** Positions of the held partitions that have none: the committed offset, else the log's start (or end). */
  private async fillPositions(c: PltConsumer, held: { topic: string; partitions: number[] }[], fromBeginning: boolean, generation: number): Promise<void> {
    const missing = held
      .map((h) => ({ topic: h.topic, partitions: h.partitions.filter((p) => !this.positions.has(key(h.topic, p))) }))
      .filter((h) => h.partitions.length);
    if (missing.length === 0) return;
    const committed = await c.listCommittedOffsets({ topics: missing });
    const none: { topic: string; partitions: number[] }[] = [];
    const found = new Map<string, bigint>();
    for (const { topic, partitions } of missing) {
      const got = committed.get(topic) ?? [];
      const without = partitions.filter((p) => {
        const o = got[p];
        if (o !== undefined && o >= 0n) found.set(key(topic, p), o);
        return o === undefined || o < 0n;
      });
      if (without.length) none.push({ topic, partitions: without });
    }
    if (none.length) {
      const ends = await c.listOffsets({
        topics: none.map((n) => n.topic),
        partitions: Object.fromEntries(none.map((n) => [n.topic, n.partitions])),
        timestamp: fromBeginning ? EARLIEST : LATEST,
      });
      for (const { topic, partitions } of none) for (const p of partitions) found.set(key(topic, p), ends.get(topic)?.[p] ?? 0n);
    }
    if (generation !== this.generation) return;
    for (const [k, o] of found) this.positions.set(k, o);
  }

  /** A position before the log's start (retention deleted what was never read): moved to the start, loudly. */
  private async skipExpired(c: PltConsumer, parts: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    const starts = await c.listOffsets({
      topics: [...new Set(parts.map((p) => p.topic))],
      partitions: Object.fromEntries(parts.map((p) => [p.topic, parts.filter((q) => q.topic === p.topic).map((q) => q.partition)])),
      timestamp: EARLIEST,
    });
    for (const p of parts) {
      const start = starts.get(p.topic)?.[p.partition];
      if (start !== undefined && p.offset < start) {
        this.logger.error(
          { topic: p.topic, partition: p.partition, position: p.offset.toString(), logStart: start.toString() },
          'records expired before they were consumed',
        );
        this.positions.set(key(p.topic, p.partition), start);
      }
    }
  }

  async commit(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    const c = this.consumer;
    if (!c) throw new Error('Kafka consumer is not running; nothing committed');
    const revoked = offsets.filter((o) => !this.holds(o.topic, o.partition));
    if (revoked.length > 0)
      throw new Error(`not committing ${revoked.map((o) => `${o.topic}[${o.partition}]`).join(', ')}: the partition was reassigned (a rebalance)`);
    try {
      await c.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
    } catch (err) {
      // The broker's reasons (e.g. REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION while the group rebalances) named in the
      // message; the client's error stays the cause, where classifyError finds them too.
      const reasons = [...new Set(brokerErrors(err))];
      const what = offsets.map((o) => `${o.topic}[${o.partition}]`).join(', ');
      throw new Error(`Kafka refused the commit of ${what} (${reasons.length > 0 ? reasons.join(', ') : (err as Error).message})`, { cause: err });
    }
  }

  pause(topics: string[]): void {
    for (const t of topics) this.paused.add(t);
  }

  resume(topics: string[]): void {
    for (const t of topics) this.paused.delete(t);
  }

  onCrash(listener: (e: { error: Error; restart: boolean }) => void): void {
    this.crashListeners.push(listener);
  }

  private async stopLoop(): Promise<void> {
    this.running = false;
    // The batch in hand finishes first (its handler sees isRunning() false) and may still commit.
    await this.loop?.catch(() => undefined);
    this.loop = undefined;
    const c = this.consumer;
    this.consumer = undefined;
    // Leaves the group, so its partitions go to the other members now rather than after the session timeout.
    await c?.close().catch((err: unknown) => this.logger.debug({ err }, 'Kafka consumer close failed'));
  }

  async disconnect(): Promise<void> {
    await this.stopLoop();
    this.logger.debug('Kafka consumer disconnected');
  }
}
