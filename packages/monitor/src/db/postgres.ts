import fs from 'node:fs';
import { Pool } from 'pg';
import { z } from 'zod';
import { pgRows, type Logger, type PgQueryDef } from '@tidemark/core';
import type { MetricSink } from '../sink';
import { DbProbe, since, withTimeout } from './common';

export interface PostgresProbeOptions {
  /** The db label. */
  name: string;
  /** A server to connect to (the probe keeps one connection), or ... */
  url?: string;
  /** ... a pool the platform already has (its metadata Postgres). */
  pool?: Pool;
  intervalMs: number;
  timeoutMs: number;
  /** Statements slower than this on average since the previous check are reported (ms). */
  slowMs: number;
  logger: Logger;
}

// The probe's statements, each with the schema of its rows (count(*) and ::text columns arrive as text).
const SERVER = {
  name: 'monitor.postgres.server',
  sql: "SELECT current_setting('server_version') AS version, current_setting('max_connections') AS max",
  row: z.object({ version: z.string(), max: z.string() }),
};
const CONNECTIONS = {
  name: 'monitor.postgres.connections',
  sql: "SELECT coalesce(state, 'unknown') AS state, count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1",
  row: z.object({ state: z.string(), n: z.coerce.number() }),
};
const STAT_STATEMENTS_INSTALLED = {
  name: 'monitor.postgres.stat_statements_installed',
  sql: "SELECT count(*) AS n FROM pg_extension WHERE extname = 'pg_stat_statements'",
  row: z.object({ n: z.coerce.number() }),
};
/** The busiest statements by total time: bounded work however many statements the server has seen. */
const STATEMENTS = {
  name: 'monitor.postgres.statements',
  sql: `SELECT s.dbid::text || ':' || s.queryid::text AS key, s.queryid::text AS queryid, d.datname AS database, s.calls::text AS calls,
               s.total_exec_time AS total_ms, left(s.query, 2000) AS query
        FROM pg_stat_statements s LEFT JOIN pg_database d ON d.oid = s.dbid
        WHERE s.calls > 0 ORDER BY s.total_exec_time DESC LIMIT 1000`,
  row: z.object({
    key: z.string(),
    queryid: z.string(),
    database: z.string().nullable(),
    calls: z.coerce.number(),
    total_ms: z.coerce.number(),
    query: z.string(),
  }),
};
type StatementRow = z.output<typeof STATEMENTS.row>;

/**
 * Established TCP connections whose local port is `port` — the server side of
 * every client connection to a server listening on this host — from
 * /proc/net/tcp and /proc/net/tcp6 (state 01 = ESTABLISHED). Null where those
 * files cannot be read (not Linux).
 */
export function countTcpConnections(port: number, read: (file: string) => string = (f) => fs.readFileSync(f, 'utf8')): number | null {
  let n = 0;
  let readable = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = read(file);
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== '01') continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) n++;
    }
  }
  return readable ? n : null;
}

/** Host and port of a pool's server, when it is on this machine (loopback or localhost). */
function localServerPort(pool: Pool): number | null {
  const o = pool.options;
  let host = o.host;
  let port = o.port;
  if (o.connectionString) {
    try {
      const u = new URL(o.connectionString);
      host = u.hostname;
      port = u.port ? Number(u.port) : 5432;
    } catch {
      return null;
    }
  }
  const local = host === undefined || host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
  return local ? (port ?? 5432) : null;
}

/** Slow statements reported per check at most (the slowest first). */
const MAX_SLOW_REPORTED = 10;

/**
 * Postgres health: reachable (db_up), version (db_info), connections by
 * state (postgres_connections{state}: active, idle, idle in transaction...)
 * and the server's max_connections (postgres_connections_max), and, where
 * pg_stat_statements is installed (postgres_stat_statements_available),
 * the statements whose mean time since the previous check was over slowMs:
 * postgres_slow_statements (how many), postgres_slow_statement_mean_ms per
 * queryid, and a WARN log line each with the normalised query text.
 */
export class PostgresProbe extends DbProbe {
  private readonly pool: Pool;
  private readonly ownPool: boolean;
  private previous: Map<string, { calls: number; totalMs: number }> | undefined;

  constructor(
    private readonly opts: PostgresProbeOptions,
    sink: MetricSink,
  ) {
    super('postgres', opts, sink);
    if (opts.pool) {
      this.pool = opts.pool;
      this.ownPool = false;
    } else {
      this.pool = new Pool({
        connectionString: opts.url,
        max: 1,
        connectionTimeoutMillis: opts.timeoutMs,
        idleTimeoutMillis: Math.max(opts.intervalMs * 2, 60_000),
        statement_timeout: opts.timeoutMs,
        application_name: 'tidemark-monitor',
      });
      // A dropped idle connection is not a crash; the next check reconnects and reports.
      this.pool.on('error', () => undefined);
      this.ownPool = true;
    }
  }

  private q<R extends z.ZodType>(def: PgQueryDef<R>): Promise<z.output<R>[]> {
    return withTimeout(`postgres ${this.opts.name}`, this.opts.timeoutMs, () => pgRows(this.pool, def));
  }

  async run(): Promise<void> {
    const timestamp = Date.now();
    const db = this.opts.name;
    const start = process.hrtime.bigint();
    let version: string | undefined;
    try {
      const r = await this.q(SERVER);
      version = r[0]?.version;
      this.status.up(timestamp, since(start), version);
      if (r[0]?.max) this.sink.metric('postgres_connections_max', Number(r[0].max), { labels: { db }, timestamp });
    } catch (err) {
      this.status.down(timestamp, err);
      return;
    }
    try {
      const rows = await this.q(CONNECTIONS);
      if (rows.reduce((n, r) => n + r.n, 0) === 0) {
        // Not even this check's own session is listed: the server does not track its clients there. The embedded
        // Postgres is one PGlite backend that every wire connection shares, so pg_stat_activity showed 0 connections
        // while the platform had a pool open. Count the server's established TCP connections instead (the server is
        // on this machine then), or report nothing rather than a false 0.
        const port = localServerPort(this.pool);
        const open = port === null ? null : countTcpConnections(port);
        if (open !== null) this.sink.metric('postgres_connections', open, { labels: { db, state: 'open' }, timestamp });
        else this.opts.logger.debug({ db }, 'pg_stat_activity lists no client backend and the server is not local: connections not reported');
      } else {
        const byState = new Map<string, number>([
          ['active', 0],
          ['idle', 0],
        ]);
        for (const r of rows) byState.set(r.state, r.n);
        for (const [state, n] of byState) this.sink.metric('postgres_connections', n, { labels: { db, state }, timestamp });
      }
    } catch (err) {
      this.opts.logger.debug({ db, err }, 'pg_stat_activity not readable');
    }
    await this.slowStatements(timestamp);
  }

  private async slowStatements(timestamp: number): Promise<void> {
    const db = this.opts.name;
    let rows: StatementRow[];
    try {
      const installed = await this.q(STAT_STATEMENTS_INSTALLED);
      if ((installed[0]?.n ?? 0) === 0) throw new Error('extension not installed');
      rows = await this.q(STATEMENTS);
    } catch (err) {
      // Not installed, or installed but not preloaded (shared_preload_libraries): no statement statistics.
      this.sink.metric('postgres_stat_statements_available', 0, { labels: { db }, timestamp });
      this.previous = undefined;
      this.opts.logger.debug({ db, err }, 'pg_stat_statements unavailable');
      return;
    }
    this.sink.metric('postgres_stat_statements_available', 1, { labels: { db }, timestamp });
    const current = new Map(rows.map((r) => [r.key, { calls: r.calls, totalMs: r.total_ms }]));
    const previous = this.previous;
    this.previous = current;
    // The first check only takes the baseline: cumulative numbers since the last stats reset say nothing about now.
    if (!previous) return;
    const slow: { row: StatementRow; calls: number; meanMs: number }[] = [];
    for (const r of rows) {
      const now = current.get(r.key)!;
      let before = previous.get(r.key) ?? { calls: 0, totalMs: 0 };
      if (now.calls < before.calls) before = { calls: 0, totalMs: 0 }; // pg_stat_statements_reset() in between
      const calls = now.calls - before.calls;
      if (calls <= 0) continue;
      const meanMs = (now.totalMs - before.totalMs) / calls;
      if (meanMs >= this.opts.slowMs) slow.push({ row: r, calls, meanMs });
    }
    slow.sort((a, b) => b.meanMs - a.meanMs);
    this.sink.metric('postgres_slow_statements', slow.length, { labels: { db }, timestamp });
    for (const s of slow.slice(0, MAX_SLOW_REPORTED)) {
      const labels = { db, database: s.row.database ?? '', queryid: s.row.queryid };
      this.sink.metric('postgres_slow_statement_mean_ms', s.meanMs, { labels, timestamp });
      this.sink.log(
        'warn',
        `slow statement on ${db}: ${s.meanMs.toFixed(1)} ms mean over ${s.calls} call(s)`,
        { ...labels, calls: s.calls, mean_ms: Math.round(s.meanMs * 10) / 10, query: s.row.query },
        { service: 'tidemark-monitor', timestamp },
      );
    }
  }

  async close(): Promise<void> {
    if (this.ownPool) await this.pool.end();
  }
}
