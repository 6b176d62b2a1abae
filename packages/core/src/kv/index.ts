import Redis from 'ioredis';

/**
 * The small key-value surface the platform needs for caches and realtime
 * counters. Redis in a cluster deployment; an in-process map in embedded mode.
 * Both implementations pass the same contract test.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  /** Sets a value that expires after ttlMs (0 = never). */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Adds `by` to an integer counter and returns the new value; sets its TTL when created. */
  incr(key: string, by: number, ttlMs: number): Promise<number>;
  /** Adds members to a set; the set expires ttlMs after it was created (later adds keep that TTL, as incr does). */
  setAdd(key: string, members: readonly string[], ttlMs: number): Promise<void>;
  /** For each member, whether the set holds it (a missing or expired set holds nothing). */
  setHas(key: string, members: readonly string[]): Promise<boolean[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class RedisStore implements KeyValueStore {
  readonly redis: Redis;

  constructor(url: string) {
    // Commands fail fast when Redis is down instead of queueing without bound.
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (ttlMs > 0) await this.redis.set(key, value, 'PX', ttlMs);
    else await this.redis.set(key, value);
  }

  async del(key: string): Promise<void> {
    await this.redis.del(key);
  }

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
    const res = await this.redis.multi().incrby(key, by).pexpire(key, ttlMs, 'NX').exec();
    const first = res?.[0];
    if (!first || first[0]) throw first?.[0] ?? new Error('redis INCRBY returned nothing');
    return Number(first[1]);
  }

  async setAdd(key: string, members: readonly string[], ttlMs: number): Promise<void> {
    if (members.length === 0) return;
    const res = await this.redis
      .multi()
      .sadd(key, ...members)
      .pexpire(key, ttlMs, 'NX')
      .exec();
    const err = res?.find((r) => r[0])?.[0];
    if (err) throw err;
  }

  async setHas(key: string, members: readonly string[]): Promise<boolean[]> {
    if (members.length === 0) return [];
    const res = await this.redis.smismember(key, ...members);
    return res.map((r) => r === 1);
  }

  async ping(): Promise<boolean> {
    return (await this.redis.ping()) === 'PONG';
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

/** In-process store for embedded mode. Expired keys are dropped on read and by a periodic sweep. */
export class MemoryStore implements KeyValueStore {
  private readonly data = new Map<string, { value: string; expiresAt: number }>();
  private readonly sets = new Map<string, { members: Set<string>; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepMs = 30_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  private live(key: string): { value: string; expiresAt: number } | undefined {
    const e = this.data.get(key);
    if (e && e.expiresAt !== 0 && e.expiresAt <= Date.now()) {
      this.data.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, e] of this.data) if (e.expiresAt !== 0 && e.expiresAt <= now) this.data.delete(k);
    for (const [k, e] of this.sets) if (e.expiresAt !== 0 && e.expiresAt <= now) this.sets.delete(k);
  }

  private liveSet(key: string): Set<string> | undefined {
    const e = this.sets.get(key);
    if (e && e.expiresAt !== 0 && e.expiresAt <= Date.now()) {
      this.sets.delete(key);
      return undefined;
    }
    return e?.members;
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.data.set(key, { value, expiresAt: ttlMs > 0 ? Date.now() + ttlMs : 0 });
  }

  async del(key: string): Promise<void> {
    this.data.delete(key);
  }

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
    const e = this.live(key);
    if (e && !/^-?\d+$/.test(e.value)) throw new Error(`value of ${key} is not an integer`);
    const next = (e ? Number(e.value) : 0) + by;
    this.data.set(key, { value: String(next), expiresAt: e ? e.expiresAt : ttlMs > 0 ? Date.now() + ttlMs : 0 });
    return next;
  }

  async setAdd(key: string, members: readonly string[], ttlMs: number): Promise<void> {
    if (members.length === 0) return;
    let set = this.liveSet(key);
    if (!set) this.sets.set(key, { members: (set = new Set()), expiresAt: ttlMs > 0 ? Date.now() + ttlMs : 0 });
    for (const m of members) set.add(m);
  }

  async setHas(key: string, members: readonly string[]): Promise<boolean[]> {
    const set = this.liveSet(key);
    return members.map((m) => set?.has(m) ?? false);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.data.clear();
    this.sets.clear();
  }
}

export function createKeyValueStore(redisUrl: string | undefined): KeyValueStore {
  return redisUrl ? new RedisStore(redisUrl) : new MemoryStore();
}
