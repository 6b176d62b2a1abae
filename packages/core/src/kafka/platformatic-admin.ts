import { setTimeout as delay } from 'node:timers/promises';
import { baseOptions, brokerErrors, loadPlatformatic, type PltAdmin } from './platformatic-load';
import type { KafkaAdmin, KafkaClientOptions, TopicSpec } from './types';

/**
 * The interface's admin calls on @platformatic/kafka's Admin client. The
 * client connects on its first request; connect() makes that request, so a
 * cluster that is away fails there, as callers expect.
 */

const EARLIEST = -2n;
const LATEST = -1n;
/** How long createTopics waits for every new partition to have a leader. */
const LEADERS_WAIT_MS = 30_000;

const sleep = (ms: number) => delay(ms, undefined, { ref: false });

/** True when every error the broker named is `apiId` (a ResponseError holds one per topic or partition). */
function onlyBrokerError(err: unknown, apiId: string): boolean {
  const ids = brokerErrors(err);
  return ids.length > 0 && ids.every((id) => id === apiId);
}

export class PlatformaticAdmin implements KafkaAdmin {
  private admin: PltAdmin | undefined;

  constructor(private readonly opts: KafkaClientOptions) {}

  private async get(): Promise<PltAdmin> {
    if (this.admin) return this.admin;
    const plt = await loadPlatformatic();
    this.admin = new plt.Admin({
      ...baseOptions(this.opts, 10_000),
    });
    return this.admin;
  }

  async connect(): Promise<void> {
    await (await this.get()).metadata({ topics: [] });
  }

  async disconnect(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    await a?.close();
  }

  async listTopics(): Promise<string[]> {
    return (await this.get()).listTopics();
  }

  /** Creates the topics (one request per partitions/replicas/config shape) and waits for their partition leaders; a topic that exists already is left as it is. */
  async createTopics(topics: TopicSpec[]): Promise<void> {
    const a = await this.get();
    for (const t of topics) {
      try {
        await a.createTopics({
          topics: [t.topic],
          partitions: t.numPartitions,
          replicas: t.replicationFactor,
          configs: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        });
      } catch (err) {
        if (!onlyBrokerError(err, 'TOPIC_ALREADY_EXISTS')) throw err;
      }
    }
    const names = topics.map((t) => t.topic);
    const deadline = Date.now() + LEADERS_WAIT_MS;
    for (;;) {
      const md = await a.metadata({ topics: names, forceUpdate: true }).catch(() => undefined);
      const ready = md && names.every((n) => (md.topics.get(n)?.partitions.length ?? 0) > 0 && md.topics.get(n)!.partitions.every((p) => p.leader >= 0));
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leader for every partition after ${LEADERS_WAIT_MS / 1000} s`);
      await sleep(200);
    }
  }

  async deleteTopics(topics: string[]): Promise<void> {
    await (await this.get()).deleteTopics({ topics });
  }

  async topicMetadata(topics: string[]): Promise<{ topic: string; partitions: { partition: number; leader: number }[] }[]> {
    const md = await (await this.get()).metadata({ topics, forceUpdate: true });
    return topics.map((topic) => ({ topic, partitions: (md.topics.get(topic)?.partitions ?? []).map((p, partition) => ({ partition, leader: p.leader })) }));
  }

  async topicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]> {
    const a = await this.get();
    const count = (await a.metadata({ topics: [topic] })).topics.get(topic)?.partitionsCount ?? 0;
    const at = async (timestamp: bigint) => {
      const got = await a.listOffsets({
        topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })) }],
      });
      return new Map(got.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.offset.toString()] as const)));
    };
    const [low, high] = await Promise.all([at(EARLIEST), at(LATEST)]);
    return Array.from({ length: count }, (_, partition) => ({ partition, low: low.get(partition) ?? '0', high: high.get(partition) ?? '0' }));
  }

  async committedOffsets(groupId: string, topics?: string[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]> {
    const a = await this.get();
    let request: { name: string; partitionIndexes: number[] }[] | null = null;
    if (topics) {
      // The interface lists every partition of the named topics, "-1" where the group committed none.
      const md = await a.metadata({ topics });
      request = topics.map((name) => ({ name, partitionIndexes: Array.from({ length: md.topics.get(name)?.partitionsCount ?? 0 }, (_, i) => i) }));
    }
    const [group] = await a.listConsumerGroupOffsets({ groups: [{ groupId, topics: request }] });
    const got = new Map((group?.topics ?? []).map((t) => [t.name, t.partitions] as const));
    const names = topics ?? [...got.keys()];
    return names.map((topic) => ({
      topic,
      partitions: (got.get(topic) ?? []).map((p) => ({ partition: p.partitionIndex, offset: p.committedOffset < 0n ? '-1' : p.committedOffset.toString() })),
    }));
  }

  async brokers(): Promise<{ nodeId: number; host: string; port: number }[]> {
    const md = await (await this.get()).metadata({ topics: [], forceUpdate: true });
    return [...md.brokers].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port }));
  }

  async listGroups(): Promise<{ groupId: string; protocolType: string }[]> {
    const groups = await (await this.get()).listGroups();
    return [...groups.values()].map((g) => ({ groupId: g.id, protocolType: g.protocolType }));
  }
}
