import type { KafkaAdmin } from './types';

/**
 * A consumer group's lag per partition of these topics: end offset minus
 * the committed offset, counted from the log start where the group
 * committed nothing or where retention already removed what it committed
 * (those records can no longer be read, so they are not lag).
 */
export async function groupLag(admin: KafkaAdmin, groupId: string, topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]> {
  const out: { topic: string; partition: number; lag: number }[] = [];
  for (const t of await admin.committedOffsets(groupId, topics)) {
    const ends = await admin.topicOffsets(t.topic);
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
