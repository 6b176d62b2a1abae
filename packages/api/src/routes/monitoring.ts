import type { ClickHouse, KeyValueStore } from '@tidemark/core';
import { z } from 'zod';
import { route, type AnyRoute } from '../http/route';

const latestRow = z.object({ name: z.string(), labels: z.record(z.string(), z.string()), value: z.coerce.number(), at: z.string() });

/** Latest value of each series of the given metrics in the last `minutes`, from the 1-minute rollup. */
export function latestMetrics(ch: ClickHouse) {
  const q = ch.query({
    name: 'monitoring.latest',
    sql: `SELECT name, any(labels) AS labels, argMaxMerge(last) AS value, formatDateTime(max(bucket), '%Y-%m-%dT%H:%i:%SZ') AS at
          FROM metrics_1m_v1
          WHERE project_id = {project:String} AND name IN {names:Array(String)} AND bucket >= now() - toIntervalMinute({minutes:UInt32})
          GROUP BY name, labels_key ORDER BY name, labels_key`,
    params: z.object({ project: z.string(), names: z.array(z.string()), minutes: z.number().int() }),
    row: latestRow,
  });
  return (project: string, names: string[], minutes = 10) => q({ project, names, minutes });
}

const SYSTEM = [
  'system_cpu_percent',
  'system_memory_percent',
  'system_disk_used_percent',
  'system_load1',
  'system_load5',
  'system_load15',
  'system_processes',
  'system_network_rx_bytes_total',
  'system_network_tx_bytes_total',
];
const DATABASE = [
  'db_up',
  'postgres_connections',
  'postgres_slow_statements',
  'clickhouse_parts',
  'clickhouse_merges',
  'kafka_consumer_lag',
  'redis_memory_bytes',
  'redis_connected_clients',
];

const auditRow = z.object({
  signal: z.string(),
  last_checked: z.string(),
  from_text: z.string(),
  to_text: z.string(),
  grace: z.coerce.number(),
  acked: z.coerce.number(),
  stored: z.coerce.number(),
  lost_rows: z.coerce.number(),
  unacked: z.coerce.number(),
  differing: z.coerce.number(),
  by_collector: z.string(),
});

const auditResponse = z.object({
  signals: z.array(
    z.object({
      signal: z.string(),
      checkedAt: z.string().describe('When the latest audit run compared this signal'),
      from: z.string().describe('First compared minute (UTC, inclusive)'),
      to: z.string().describe('End of the compared minutes (UTC, exclusive): minutes younger than the grace period are not compared yet'),
      graceSeconds: z.number(),
      acknowledged: z.number().describe('Rows the collector acknowledged (HTTP 200) with a timestamp in the compared minutes'),
      landed: z.number().describe('Rows stored in ClickHouse with a timestamp in the compared minutes'),
      lost: z.number().describe('acknowledged − landed where positive: rows the platform said it had and does not'),
      unacknowledged: z.number().describe('landed − acknowledged where positive: rows written straight into Kafka, or duplicates'),
      differingMinutes: z.number().describe('Compared minutes where acknowledged and landed differ'),
      collector: z.string(),
    }),
  ),
});

/** The latest value of one series (response schemas below: what the handlers return, documented in /openapi.json). */
const metricValue = z.object({ name: z.string(), labels: z.record(z.string(), z.string()), value: z.number(), at: z.string() });
const metricsResponse = z.object({ metrics: z.array(metricValue) });

const BASE = '/api/analytics-monitoring/monitoring';
const sinceQuery = z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(10) });
type Latest = ReturnType<typeof latestMetrics>;

function monitoringQueries(ch: ClickHouse) {
  return {
    live: ch.query({
      name: 'realtime.events_per_minute',
      sql: `WITH toStartOfMinute(now()) AS m
            SELECT sumIf(events, bucket = m - INTERVAL 1 MINUTE) AS last_minute, sumIf(events, bucket = m) AS this_minute,
                   formatDateTime(m, '%Y-%m-%dT%H:%i:%SZ') AS minute_start
            FROM events_1m_v1 WHERE project_id = {project:String} AND bucket >= m - INTERVAL 1 MINUTE AND bucket <= m`,
      params: z.object({ project: z.string() }),
      row: z.object({ last_minute: z.coerce.number(), this_minute: z.coerce.number(), minute_start: z.string() }),
    }),
    // The latest run of the collector's acknowledgement audit per signal (ingest_audit_v1, clickhouse/0005).
    audit: ch.query({
      name: 'monitoring.ingest_audit',
      // Aliases differ from the column names: an alias named like a column would replace it in WHERE and in argMax.
      sql: `SELECT signal, toString(max(checked_at)) AS last_checked, toString(argMax(from_minute, checked_at)) AS from_text,
                   toString(argMax(to_minute, checked_at)) AS to_text, argMax(grace_seconds, checked_at) AS grace,
                   argMax(acknowledged, checked_at) AS acked, argMax(landed, checked_at) AS stored, argMax(lost, checked_at) AS lost_rows,
                   argMax(unacknowledged, checked_at) AS unacked, argMax(differing_minutes, checked_at) AS differing,
                   argMax(collector, checked_at) AS by_collector
            FROM ingest_audit_v1
            WHERE project_id = {project:String} AND checked_at > now64(3) - toIntervalMinute({minutes:UInt32})
            GROUP BY signal ORDER BY signal`,
      params: z.object({ project: z.string(), minutes: z.number().int() }),
      row: auditRow,
    }),
    // Sessions with an event in the last 5 minutes (uniq sketches merged across the minutes).
    activeSessions: ch.query({
      name: 'realtime.active_sessions',
      sql: `SELECT uniqMerge(sessions) AS active_sessions FROM events_1m_v1 WHERE project_id = {project:String} AND bucket >= now() - INTERVAL 5 MINUTE`,
      params: z.object({ project: z.string() }),
      row: z.object({ active_sessions: z.coerce.number() }),
    }),
  };
}
type MonitoringQueries = ReturnType<typeof monitoringQueries>;

/** The requirements' monitoring endpoints (/api/analytics-monitoring/monitoring/...) and the realtime overview, from the monitor role's metrics. */
export function monitoringRoutes(deps: { clickhouse: ClickHouse; kv: KeyValueStore }): AnyRoute[] {
  const latest = latestMetrics(deps.clickhouse);
  const q = monitoringQueries(deps.clickhouse);
  return [...healthRoutes(latest, q), ...metricRoutes(latest), ...realtimeRoutes(latest, q)];
}

/** Checked services, databases and the ingest acknowledgement audit. */
function healthRoutes(latest: Latest, q: MonitoringQueries): AnyRoute[] {
  const base = BASE;
  return [
    route({
      method: 'get',
      path: `${base}/health/services`,
      summary: 'Health of checked HTTP/TCP services: up, latency, availability',
      tag: 'monitoring',
      auth: 'read',
      response: z.object({
        services: z.array(
          z.object({
            target: z.string(),
            kind: z.string(),
            up: z.boolean().nullable(),
            latency_ms: z.number().nullable(),
            at: z.string().describe('minute of the latest sample'),
          }),
        ),
      }),
      query: sinceQuery,
      async handler({ principal, query }) {
        const rows = await latest(principal.projectId, ['healthcheck_up', 'healthcheck_latency_ms'], query.minutes);
        const byTarget = new Map<string, Record<string, unknown>>();
        for (const r of rows) {
          const target = r.labels.target ?? '';
          const entry = byTarget.get(target) ?? { target, kind: r.labels.kind ?? '', up: null, latency_ms: null, at: r.at };
          if (r.name === 'healthcheck_up') entry.up = r.value === 1;
          else entry.latency_ms = r.value;
          byTarget.set(target, entry);
        }
        return { services: [...byTarget.values()] };
      },
    }),
    route({
      method: 'get',
      path: `${base}/health/database`,
      summary: 'Database health: reachability per database',
      tag: 'monitoring',
      auth: 'read',
      response: z.object({ databases: z.array(z.object({ db: z.string(), kind: z.string(), up: z.boolean(), at: z.string() })) }),
      query: sinceQuery,
      async handler({ principal, query }) {
        const rows = await latest(principal.projectId, ['db_up'], query.minutes);
        return { databases: rows.map((r) => ({ db: r.labels.db ?? '', kind: r.labels.kind ?? '', up: r.value === 1, at: r.at })) };
      },
    }),
    route({
      method: 'get',
      path: `${base}/health/ingest-audit`,
      summary:
        "Acknowledgement audit of the project's ingest: per signal, rows the collector acknowledged vs rows landed in ClickHouse over the compared minutes of the latest run, and the difference (lost, unacknowledged)",
      tag: 'monitoring',
      auth: 'read',
      query: sinceQuery,
      response: auditResponse,
      async handler({ principal, query }) {
        const rows = await q.audit({ project: principal.projectId, minutes: query.minutes });
        // ClickHouse prints UTC times as "YYYY-MM-DD hh:mm:ss[.mmm]" (the columns are UTC).
        const utc = (t: string): string => `${t.replace(' ', 'T')}Z`;
        return {
          signals: rows.map((r) => ({
            signal: r.signal,
            checkedAt: utc(r.last_checked),
            from: utc(r.from_text),
            to: utc(r.to_text),
            graceSeconds: r.grace,
            acknowledged: r.acked,
            landed: r.stored,
            lost: r.lost_rows,
            unacknowledged: r.unacked,
            differingMinutes: r.differing,
            collector: r.by_collector,
          })),
        };
      },
    }),
  ];
}

/** The latest system and database figures. */
function metricRoutes(latest: Latest): AnyRoute[] {
  const base = BASE;
  return [
    route({
      method: 'get',
      path: `${base}/metrics/system`,
      summary: 'Latest CPU, memory, disk, load, process and network figures',
      tag: 'monitoring',
      auth: 'read',
      response: metricsResponse,
      query: sinceQuery,
      async handler({ principal, query }) {
        return { metrics: await latest(principal.projectId, SYSTEM, query.minutes) };
      },
    }),
    route({
      method: 'get',
      path: `${base}/metrics/database`,
      summary: 'Latest database figures: connections, slow statements, parts, merges, consumer lag, Redis memory and clients',
      tag: 'monitoring',
      auth: 'read',
      response: metricsResponse,
      query: sinceQuery,
      async handler({ principal, query }) {
        return { metrics: await latest(principal.projectId, DATABASE, query.minutes) };
      },
    }),
  ];
}

/** Events of the last and the current minute, active sessions, online agents. */
function realtimeRoutes(latest: Latest, q: MonitoringQueries): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/analytics-monitoring/realtime/overview',
      summary:
        'Realtime overview: events that happened in the last complete minute and in this (partial) minute, active sessions in the last 5 minutes, online agents',
      tag: 'realtime',
      auth: 'read',
      response: z.object({
        events_last_minute: z.number(),
        events_this_minute: z.number(),
        minute_start: z.string().nullable(),
        this_minute_partial: z.literal(true),
        active_sessions: z.number(),
        online_agents: z.number().nullable(),
        total_agents: z.number().nullable(),
      }),
      async handler({ principal }) {
        // Counted by when events happened (the rollup's bucket is the event's minute), not by when the collector got them:
        // a backfill of history or a client's offline queue arriving now is not traffic of this minute.
        const [[live], [row]] = await Promise.all([q.live({ project: principal.projectId }), q.activeSessions({ project: principal.projectId })]);
        const agents = await latest(principal.projectId, ['agents_online', 'agents_total'], 10);
        const agent = (n: string): number | null => agents.find((a) => a.name === n)?.value ?? null;
        return {
          events_last_minute: live?.last_minute ?? 0,
          events_this_minute: live?.this_minute ?? 0,
          minute_start: live?.minute_start ?? null,
          // The current minute is still filling.
          this_minute_partial: true,
          active_sessions: row?.active_sessions ?? 0,
          online_agents: agent('agents_online'),
          total_agents: agent('agents_total'),
        };
      },
    }),
  ];
}
