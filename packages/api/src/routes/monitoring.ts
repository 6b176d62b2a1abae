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

const SYSTEM = ['system_cpu_percent', 'system_memory_percent', 'system_disk_used_percent', 'system_load1', 'system_load5', 'system_load15', 'system_processes', 'system_network_rx_bytes_total', 'system_network_tx_bytes_total'];
const DATABASE = ['db_up', 'postgres_connections', 'postgres_slow_statements', 'clickhouse_parts', 'clickhouse_merges', 'kafka_consumer_lag', 'redis_memory_bytes', 'redis_connected_clients'];

/** The requirements' monitoring endpoints (/api/analytics-monitoring/monitoring/...), from the monitor role's metrics. */
export function monitoringRoutes(deps: { clickhouse: ClickHouse; kv: KeyValueStore }): AnyRoute[] {
  const latest = latestMetrics(deps.clickhouse);
  const liveQuery = deps.clickhouse.query({
    name: 'realtime.events_per_minute',
    sql: `WITH toStartOfMinute(now()) AS m
          SELECT sumIf(events, bucket = m - INTERVAL 1 MINUTE) AS last_minute, sumIf(events, bucket = m) AS this_minute,
                 formatDateTime(m, '%Y-%m-%dT%H:%i:%SZ') AS minute_start
          FROM events_1m_v1 WHERE project_id = {project:String} AND bucket >= m - INTERVAL 1 MINUTE AND bucket <= m`,
    params: z.object({ project: z.string() }),
    row: z.object({ last_minute: z.coerce.number(), this_minute: z.coerce.number(), minute_start: z.string() }),
  });
  const base = '/api/analytics-monitoring/monitoring';
  const sinceQuery = z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(10) });
  return [
    route({
      method: 'get',
      path: `${base}/health/services`,
      summary: 'Health of checked HTTP/TCP services: up, latency, availability',
      tag: 'monitoring',
      auth: 'read',
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
      query: sinceQuery,
      async handler({ principal, query }) {
        const rows = await latest(principal.projectId, ['db_up'], query.minutes);
        return { databases: rows.map((r) => ({ db: r.labels.db ?? '', kind: r.labels.kind ?? '', up: r.value === 1, at: r.at })) };
      },
    }),
    route({
      method: 'get',
      path: `${base}/metrics/system`,
      summary: 'Latest CPU, memory, disk, load, process and network figures',
      tag: 'monitoring',
      auth: 'read',
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
      query: sinceQuery,
      async handler({ principal, query }) {
        return { metrics: await latest(principal.projectId, DATABASE, query.minutes) };
      },
    }),
    route({
      method: 'get',
      path: '/api/analytics-monitoring/realtime/overview',
      summary: 'Realtime overview: events that happened in the last complete minute and in this (partial) minute, active sessions in the last 5 minutes, online agents',
      tag: 'realtime',
      auth: 'read',
      async handler({ principal }) {
        // Counted by when events happened (the rollup's bucket is the event's minute), not by when the collector got them:
        // a backfill of history or a client's offline queue arriving now is not traffic of this minute.
        const [live] = await liveQuery({ project: principal.projectId });
        const rs = await deps.clickhouse.client.query({
          query: `SELECT uniqMerge(sessions) AS active_sessions FROM events_1m_v1 WHERE project_id = {p:String} AND bucket >= now() - INTERVAL 5 MINUTE`,
          query_params: { p: principal.projectId },
          format: 'JSONEachRow',
        });
        const [row] = await rs.json<{ active_sessions: string }>();
        const agents = await latest(principal.projectId, ['agents_online', 'agents_total'], 10);
        const agent = (n: string): number | null => agents.find((a) => a.name === n)?.value ?? null;
        return {
          events_last_minute: live?.last_minute ?? 0,
          events_this_minute: live?.this_minute ?? 0,
          minute_start: live?.minute_start ?? null,
          // The current minute is still filling.
          this_minute_partial: true,
          active_sessions: Number(row?.active_sessions ?? 0),
          online_agents: agent('agents_online'),
          total_agents: agent('agents_total'),
        };
      },
    }),
  ];
}
