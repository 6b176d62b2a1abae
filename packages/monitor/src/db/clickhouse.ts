import { ClickHouse, type Logger } from '@tidemark/core';
import { z } from 'zod';
import type { MetricSink } from '../sink';
import { DbProbe, since, withTimeout } from './common';

export interface ClickHouseProbeOptions {
  name: string;
  /** http(s)://[user:password@]host:port of a server to watch, or ... */
  url?: string;
  /** ... the platform's own client (any database: system tables are read by full name). */
  client?: ClickHouse;
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
}

const num = z.coerce.number();

/** A client for a watched server from its URL; credentials come out of the URL. */
export function clickhouseFromUrl(url: string, timeoutMs: number): ClickHouse {
  const u = new URL(url);
  const username = decodeURIComponent(u.username) || 'default';
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return new ClickHouse({
    url: u.origin + u.pathname.replace(/\/+$/, ''),
    username,
    password,
    database: 'default',
    requestTimeoutMs: timeoutMs,
    application: 'tidemark-monitor',
  });
}

/**
 * ClickHouse health: ping and version (db_up, db_info), active parts in
 * total (clickhouse_parts) and in the fullest partition
 * (clickhouse_parts_max_per_partition: inserts fail with TOO_MANY_PARTS as
 * it nears parts_to_throw_insert), running merges (clickhouse_merges), open
 * connections, and, where tables are replicated: replicas, read-only
 * replicas, the largest replication delay and queue.
 */
export class ClickHouseProbe extends DbProbe {
  private readonly ch: ClickHouse;
  private readonly own: boolean;
  private readonly queries;

  constructor(
    private readonly opts: ClickHouseProbeOptions,
    sink: MetricSink,
  ) {
    super('clickhouse', opts, sink);
    this.own = !opts.client;
    this.ch = opts.client ?? clickhouseFromUrl(opts.url!, opts.timeoutMs);
    const none = z.object({});
    this.queries = {
      version: this.ch.query({
        name: 'monitor.clickhouse.version',
        sql: 'SELECT version() AS version, uptime() AS uptime',
        params: none,
        row: z.object({ version: z.string(), uptime: num }),
      }),
      parts: this.ch.query({
        name: 'monitor.clickhouse.parts',
        sql: `SELECT sum(n) AS parts, max(n) AS max_per_partition
              FROM (SELECT count() AS n FROM system.parts WHERE active GROUP BY database, table, partition_id)`,
        params: none,
        row: z.object({ parts: num, max_per_partition: num }),
      }),
      merges: this.ch.query({
        name: 'monitor.clickhouse.merges',
        sql: 'SELECT count() AS merges FROM system.merges',
        params: none,
        row: z.object({ merges: num }),
      }),
      connections: this.ch.query({
        name: 'monitor.clickhouse.connections',
        sql: "SELECT toUInt64(sum(value)) AS connections FROM system.metrics WHERE metric IN ('TCPConnection', 'HTTPConnection', 'MySQLConnection', 'PostgreSQLConnection', 'InterserverConnection')",
        params: none,
        row: z.object({ connections: num }),
      }),
      replicas: this.ch.query({
        name: 'monitor.clickhouse.replicas',
        sql: 'SELECT count() AS replicas, countIf(is_readonly) AS readonly, ifNull(max(absolute_delay), 0) AS max_delay, ifNull(sum(queue_size), 0) AS queue FROM system.replicas',
        params: none,
        row: z.object({ replicas: num, readonly: num, max_delay: num, queue: num }),
      }),
    };
  }

  async run(): Promise<void> {
    const timestamp = Date.now();
    const db = this.opts.name;
    const start = process.hrtime.bigint();
    let version: string | undefined;
    try {
      const ok = await withTimeout(`clickhouse ${db}`, this.opts.timeoutMs, () => this.ch.ping());
      if (!ok) throw new Error('ping failed');
      const latency = since(start);
      version = (await withTimeout(`clickhouse ${db}`, this.opts.timeoutMs, () => this.queries.version({})))[0]?.version;
      this.status.up(timestamp, latency, version);
    } catch (err) {
      this.status.down(timestamp, err);
      return;
    }
    const labels = { db };
    const emit = (name: string, value: number): void => this.sink.metric(name, value, { labels, timestamp });
    // Each of these is best effort: a user without access to one system table still gets the rest.
    await Promise.all([
      this.best('parts', async () => {
        const r = (await this.queries.parts({}))[0];
        emit('clickhouse_parts', r?.parts ?? 0);
        emit('clickhouse_parts_max_per_partition', r?.max_per_partition ?? 0);
      }),
      this.best('merges', async () => emit('clickhouse_merges', (await this.queries.merges({}))[0]?.merges ?? 0)),
      this.best('connections', async () => emit('clickhouse_connections', (await this.queries.connections({}))[0]?.connections ?? 0)),
      this.best('replicas', async () => {
        const r = (await this.queries.replicas({}))[0];
        if (!r || r.replicas === 0) return; // no replicated tables: nothing to report
        emit('clickhouse_replicated_tables', r.replicas);
        emit('clickhouse_replicas_readonly', r.readonly);
        emit('clickhouse_replication_delay_seconds', r.max_delay);
        emit('clickhouse_replication_queue', r.queue);
      }),
    ]);
  }

  private async best(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await withTimeout(`clickhouse ${this.opts.name} ${what}`, this.opts.timeoutMs, fn);
    } catch (err) {
      this.opts.logger.debug({ db: this.opts.name, what, err }, 'clickhouse system table not readable');
    }
  }

  async close(): Promise<void> {
    if (this.own) await this.ch.close();
  }
}
