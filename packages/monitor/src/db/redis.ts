import Redis from 'ioredis';
import type { Logger } from '@tidemark/core';
import type { MetricSink } from '../sink';
import { DbProbe, since, withTimeout } from './common';

export interface RedisProbeOptions {
  name: string;
  url: string;
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
}

/** "key:value" lines of INFO. */
export function parseRedisInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * Redis health: PING (db_up, db_latency_ms), version (db_info), memory in
 * use and its limit (redis_memory_bytes, redis_memory_max_bytes when set),
 * connected and blocked clients. A fresh connection per check: nothing to
 * keep alive or reconnect between checks, and a broken server shows at once.
 */
export class RedisProbe extends DbProbe {
  constructor(
    private readonly opts: RedisProbeOptions,
    sink: MetricSink,
  ) {
    super('redis', opts, sink);
  }

  async run(): Promise<void> {
    const timestamp = Date.now();
    const db = this.opts.name;
    const redis = new Redis(this.opts.url, {
      lazyConnect: true,
      connectTimeout: this.opts.timeoutMs,
      commandTimeout: this.opts.timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    // ioredis emits 'error' on connection problems; unhandled it would crash the process.
    redis.on('error', () => undefined);
    try {
      const start = process.hrtime.bigint();
      await withTimeout(`redis ${db}`, this.opts.timeoutMs, async () => {
        await redis.connect();
        const pong = await redis.ping();
        if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
      });
      const latency = since(start);
      const info = parseRedisInfo(await withTimeout(`redis ${db}`, this.opts.timeoutMs, () => redis.info()));
      this.status.up(timestamp, latency, info.redis_version);
      const labels = { db };
      const emit = (name: string, v: string | undefined): void => {
        if (v !== undefined && v !== '' && Number.isFinite(Number(v))) this.sink.metric(name, Number(v), { labels, timestamp });
      };
      emit('redis_memory_bytes', info.used_memory);
      if (Number(info.maxmemory) > 0) emit('redis_memory_max_bytes', info.maxmemory);
      emit('redis_connected_clients', info.connected_clients);
      emit('redis_blocked_clients', info.blocked_clients);
    } catch (err) {
      this.status.down(timestamp, err);
    } finally {
      redis.disconnect();
    }
  }
}
