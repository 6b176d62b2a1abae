import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Logger } from '@tidemark/core';
import type { MetricSink } from '../sink';
import { DbProbe, since, withTimeout } from './common';

export interface KafkaProbeOptions {
  /** The db label (the cluster's name). */
  name: string;
  /** host:port[,host:port...] */
  brokers: string;
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
}

/** Consumer groups looked at per check at most: each costs a request. */
const MAX_GROUPS = 200;

/**
 * Kafka health: the cluster answers (db_up, kafka_brokers) and the lag of
 * every consumer group: kafka_consumer_lag{group,topic,partition} = end
 * offset minus the group's committed offset (the earliest offset when it
 * committed none), and kafka_consumer_group_lag{group} summed over its
 * partitions. The admin connection is kept between checks.
 */
export class KafkaProbe extends DbProbe {
  private readonly kafka: KafkaClient;
  private admin: KafkaAdmin | undefined;

  constructor(
    private readonly opts: KafkaProbeOptions,
    sink: MetricSink,
  ) {
    super('kafka', opts, sink);
    const log = opts.logger.child({ component: 'monitor-kafka' });
    this.kafka = createKafkaClient({
      clientId: 'tidemark-monitor',
      brokers: opts.brokers,
      timeoutMs: opts.timeoutMs,
      // Few retries: the probe reports the cluster down and tries again on its next turn.
      retries: 1,
      logger: log,
    });
  }

  private async connect(): Promise<KafkaAdmin> {
    if (this.admin) return this.admin;
    const admin = this.kafka.admin();
    await admin.connect();
    this.admin = admin;
    return admin;
  }

  private async drop(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    await a?.disconnect().catch(() => undefined);
  }

  async run(): Promise<void> {
    const timestamp = Date.now();
    const cluster = this.opts.name;
    const start = process.hrtime.bigint();
    let admin: KafkaAdmin;
    try {
      admin = await withTimeout(`kafka ${cluster}`, this.opts.timeoutMs * 2, () => this.connect());
      const brokers = await withTimeout(`kafka ${cluster}`, this.opts.timeoutMs, () => admin.brokers());
      this.status.up(timestamp, since(start));
      this.sink.metric('kafka_brokers', brokers.length, { labels: { db: cluster }, timestamp });
    } catch (err) {
      await this.drop();
      this.status.down(timestamp, err);
      return;
    }
    try {
      await withTimeout(`kafka ${cluster} lag`, Math.max(this.opts.timeoutMs * 4, 10_000), () => this.lag(admin, timestamp));
    } catch (err) {
      this.opts.logger.warn({ db: cluster, err }, 'reading consumer lag failed');
    }
  }

  private async lag(admin: KafkaAdmin, timestamp: number): Promise<void> {
    const cluster = this.opts.name;
    const groups = await admin.listGroups();
    const consumers = groups
      .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
      .map((g) => g.groupId)
      .sort();
    if (consumers.length > MAX_GROUPS)
      this.opts.logger.warn({ db: cluster, groups: consumers.length, max: MAX_GROUPS }, 'too many consumer groups: lag reported for the first ones only');
    const ends = new Map<string, Map<number, { high: number; low: number }>>();
    const endsOf = async (topic: string): Promise<Map<number, { high: number; low: number }>> => {
      let m = ends.get(topic);
      if (!m) {
        m = new Map((await admin.topicOffsets(topic)).map((p) => [p.partition, { high: Number(p.high), low: Number(p.low) }]));
        ends.set(topic, m);
      }
      return m;
    };
    for (const group of consumers.slice(0, MAX_GROUPS)) {
      let total = 0;
      const committed = await admin.committedOffsets(group);
      for (const t of committed) {
        let topicEnds: Map<number, { high: number; low: number }>;
        try {
          topicEnds = await endsOf(t.topic);
        } catch {
          continue; // the topic was deleted since the group committed to it
        }
        for (const p of t.partitions) {
          const end = topicEnds.get(p.partition);
          if (!end) continue;
          const offset = Number(p.offset);
          const lag = Math.max(0, end.high - (offset >= 0 ? Math.max(offset, end.low) : end.low));
          total += lag;
          this.sink.metric('kafka_consumer_lag', lag, { labels: { db: cluster, group, topic: t.topic, partition: String(p.partition) }, timestamp });
        }
      }
      this.sink.metric('kafka_consumer_group_lag', total, { labels: { db: cluster, group }, timestamp });
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }
}
