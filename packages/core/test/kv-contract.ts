import crypto from 'node:crypto';
import type { KeyValueStore } from '../src';

/** The behaviour both KeyValueStore implementations must share. */
export function keyValueContract(make: () => KeyValueStore): void {
  let kv: KeyValueStore;
  const key = (name: string): string => `tm-test:${crypto.randomUUID()}:${name}`;
  beforeAll(() => {
    kv = make();
  });
  afterAll(async () => {
    await kv.close();
  });

  test('set, get, del', async () => {
    const k = key('a');
    expect(await kv.get(k)).toBeNull();
    await kv.set(k, 'v1', 0);
    expect(await kv.get(k)).toBe('v1');
    await kv.del(k);
    expect(await kv.get(k)).toBeNull();
  });

  test('values expire after their TTL', async () => {
    const k = key('ttl');
    await kv.set(k, 'v', 50);
    expect(await kv.get(k)).toBe('v');
    await new Promise((r) => setTimeout(r, 120));
    expect(await kv.get(k)).toBeNull();
  });

  test('incr counts and keeps the first TTL', async () => {
    const k = key('n');
    expect(await kv.incr(k, 1, 100)).toBe(1);
    expect(await kv.incr(k, 5, 100_000)).toBe(6);
    await new Promise((r) => setTimeout(r, 160));
    expect(await kv.get(k)).toBeNull();
  });

  test('sets: add, membership per member, TTL from creation', async () => {
    const k = key('set');
    expect(await kv.setHas(k, ['a', 'b'])).toEqual([false, false]);
    await kv.setAdd(k, ['a', 'c', 'a'], 150);
    expect(await kv.setHas(k, ['a', 'b', 'c'])).toEqual([true, false, true]);
    await kv.setAdd(k, ['b'], 100_000); // keeps the first TTL
    expect(await kv.setHas(k, ['b'])).toEqual([true]);
    expect(await kv.setHas(k, [])).toEqual([]);
    await new Promise((r) => setTimeout(r, 250));
    expect(await kv.setHas(k, ['a', 'b', 'c'])).toEqual([false, false, false]);
  });

  test('ping', async () => {
    expect(await kv.ping()).toBe(true);
  });
}
