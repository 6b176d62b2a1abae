/**
 * Kafka's default partitioner for keyed records (murmur2 of the key bytes,
 * sign bit cleared, modulo the partition count), in 32-bit integer
 * arithmetic. The collector groups rows into one message per partition, so
 * it chooses the partition itself; with the same hash as the Java client and
 * kafkajs, a row lands where a message keyed by the row's key would, and a
 * producer writing the wire format with that key keeps the same order.
 * A unit test checks it against kafkajs's own implementation.
 */
export function murmur2(key: Buffer): number {
  const m = 0x5bd1e995;
  const length = key.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The 1-3 trailing bytes, as the reference's fall-through switch takes them.
  const rest = length & 3;
  if (rest >= 3) h ^= key[whole + 2]! << 16;
  if (rest >= 2) h ^= key[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= key[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives a record with this key. */
export function partitionOfKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}
