import { retry } from '../retry';
import type { KafkaAdmin } from './types';

/**
 * A consumer group's lag per partition of these topics: end offset minus
 * the committed offset, counted from the log start where the group
 * committed nothing or where retention already removed what it committed
 * (those records can no longer be read, so they are not lag).
 *
 * The offset reads are retried while the cluster answers with a retriable
 * error: a broker that just started answers COORDINATOR_LOAD_IN_PROGRESS
 * for a moment while it loads the offsets topic, and a status page or a
 * gauge should wait that out rather than fail.
 */
export async function groupLag(admin: KafkaAdmin, groupId: string, topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]> {
  const opts = { dependency: 'kafka', retries: 6, initialDelayMs: 200, maxDelayMs: 2_000 };
  const out: { topic: string; partition: number; lag: number }[] = [];
  for (const t of await retry(() => admin.committedOffsets(groupId, topics), opts)) {
    const ends = await retry(() => admin.topicOffsets(t.topic), opts);
    for (const p of t.partitions) {
      const end = ends.find((e) => e.partition === p.partition);
      if (!end) continue;
      const offset = Number(p.offset);
      const from = offset >= 0 ? Math.max(offset, Number(end.low)) : Number(end.low);
      out.push({ topic: t.topic, partition: p.partition, lag: Math.max(0, Number(end.high) - from) });
    }
  }
  return out;
}
