import { murmur2, partitionOfKey } from '../src/kafka/partition';

// kafkajs's own murmur2 (a port of the Java client's), the reference this one must equal.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reference = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

describe('partitionOfKey', () => {
  const keys: string[] = [''];
  for (let len = 1; len <= 40; len++) keys.push('k'.repeat(len), `p1:user-${len * 7919}`.slice(0, len));
  keys.push('default:user-1', 'proj:日本語のユーザー', 'p:émoji-🙂', 'a'.repeat(1000));
  for (let i = 0; i < 2000; i++) keys.push(`default:user-${i}`);

  test('matches kafkajs / the Java client for keys of every length and non-ASCII bytes', () => {
    for (const k of keys) expect(murmur2(Buffer.from(k))).toBe(reference(Buffer.from(k)) | 0);
  });

  test('spreads keys over the partitions like Kafka does', () => {
    for (const n of [1, 3, 6, 12]) {
      const seen = new Set<number>();
      for (const k of keys) {
        const p = partitionOfKey(k, n);
        expect(p).toBe((reference(Buffer.from(k)) & 0x7fffffff) % n);
        seen.add(p);
      }
      expect(seen.size).toBe(n);
    }
  });
});
