/**
 * Every query of the Grafana dashboards (panels and variables), run for real:
 * the ClickHouse migrations applied to the embedded ClickHouse (chDB over
 * HTTP, the same engine family as a server), the business tables created as
 * the etl role lands them (the API tests' fixture DDL), a little data landed,
 * then each query with the plugin's macros expanded, as the read-only user
 * Grafana connects as. Also parses every statement of
 * deploy/clickhouse-cluster/distributed.sql (EXPLAIN AST: a Distributed table
 * needs a real cluster to be created).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouse, CLICKHOUSE_MIGRATIONS_DIR, createLogger, migrateClickHouse } from '@tidemark/core';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '@tidemark/embedded-clickhouse';
import { BIZ_DDL } from '../../api/test/fixtures/biz';
import { DEPLOY, expandGrafanaSql, read, rel, walk, type Obj } from './helpers';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const PROJECT = 'p1';
const database = `tm_deploy_${process.pid}_${Date.now().toString(36)}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-deploy-'));

let server: SpawnedClickHouse;
let admin: ClickHouse;
let readonly: ClickHouse;

const dashboards = walk(path.join(DEPLOY, 'grafana', 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: rel(f), dash: JSON.parse(read(f)) as Obj }));

/** Seconds-precision timestamps as ClickHouse DateTime64 text, relative to now. */
const ago = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString().replace('T', ' ').replace('Z', '');

async function seed(): Promise<void> {
  await admin.command(`INSERT INTO events_raw_v1 (project_id, event_id, name, timestamp, received_at, distinct_id, session_id, properties, measures, product, channel, os, app_version, user_agent) VALUES
    ('${PROJECT}', generateUUIDv4(), 'page_view', '${ago(30)}', '${ago(30)}', 'u1', 's1', '{}', map('duration_ms', 12), 'web', 'online', 'linux', '1.0', ''),
    ('${PROJECT}', generateUUIDv4(), 'page_view', '${ago(20)}', '${ago(19)}', 'u2', 's2', '{}', map('duration_ms', 30), 'web', 'online', 'linux', '1.0', ''),
    ('${PROJECT}', generateUUIDv4(), 'purchase', '${ago(10)}', '${ago(10)}', 'u1', 's1', '{}', map('amount', 99.5), 'web', 'phone', 'ios', '2.0', '')`);
  const metric = (name: string, type: string, labels: Record<string, string>, value: number, minutes: number): string =>
    `('${PROJECT}', '${name}', '${type}', map(${Object.entries(labels)
      .map(([k, v]) => `'${k}', '${v}'`)
      .join(', ')}), '${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}', ${value}, '${ago(minutes)}', '${ago(minutes)}')`;
  const rows = [
    metric('http_requests_total', 'counter', { service: 'web', route: '/a', status: '200', method: 'GET' }, 100, 40),
    metric('http_requests_total', 'counter', { service: 'web', route: '/a', status: '200', method: 'GET' }, 160, 20),
    metric('http_requests_total', 'counter', { service: 'web', route: '/a', status: '500', method: 'GET' }, 1, 40),
    metric('http_requests_total', 'counter', { service: 'web', route: '/a', status: '500', method: 'GET' }, 7, 20),
    metric('http_request_duration_ms', 'histogram', { service: 'web', route: '/a', status: '200', method: 'GET' }, 12, 30),
    metric('http_request_duration_ms', 'histogram', { service: 'web', route: '/a', status: '200', method: 'GET' }, 250, 25),
    metric('system_cpu_percent', 'gauge', { host: 'h1' }, 42, 15),
    metric('system_memory_percent', 'gauge', { host: 'h1' }, 61, 15),
    metric('system_disk_used_percent', 'gauge', { host: 'h1', mount: '/' }, 70, 15),
    metric('system_load1', 'gauge', { host: 'h1' }, 0.5, 15),
    metric('system_network_rx_bytes_total', 'counter', { host: 'h1' }, 1000, 40),
    metric('system_network_rx_bytes_total', 'counter', { host: 'h1' }, 5000, 10),
    metric('system_network_tx_bytes_total', 'counter', { host: 'h1' }, 800, 10),
    metric('healthcheck_up', 'gauge', { target: 'https://shop.example', kind: 'http' }, 1, 5),
    metric('healthcheck_latency_ms', 'gauge', { target: 'https://shop.example', kind: 'http' }, 85, 5),
    metric('db_up', 'gauge', { db: 'orders', kind: 'postgres' }, 0, 5),
    metric('kafka_consumer_lag', 'gauge', { group: 'tidemark-ingest', topic: 'tidemark.events.v1' }, 12, 5),
    metric('postgres_connections', 'gauge', { db: 'orders' }, 9, 5),
  ];
  await admin.command(`INSERT INTO metrics_raw_v1 (project_id, name, type, labels, labels_key, value, timestamp, received_at) VALUES ${rows.join(',\n')}`);
  await admin.command(`INSERT INTO logs_raw_v1 (project_id, timestamp, received_at, level, service, message, attributes, trace_id, request_id) VALUES
    ('${PROJECT}', '${ago(5)}', '${ago(5)}', 'ERROR', 'web', 'payment failed', map('path', '/pay'), '', ''),
    ('${PROJECT}', '${ago(4)}', '${ago(4)}', 'INFO', 'web', 'ok', map(), '', '')`);
  await admin.command(
    `INSERT INTO ingest_warnings_v1 (project_id, received_at, signal, kind, event_id, detail) VALUES ('${PROJECT}', '${ago(3)}', 'event', 'clock_skew_corrected', '', '')`,
  );
  for (const ddl of BIZ_DDL) await admin.command(ddl);
  const cols = async (table: string): Promise<{ name: string; type: string }[]> => {
    const rs = await admin.client.query({
      query: `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position`,
      query_params: { db: database, t: table },
      format: 'JSONEachRow',
    });
    return rs.json();
  };
  // One current row per business table, whatever its columns: defaults, then the ones the dashboards group by.
  const values: Record<string, string> = {
    project_id: `'${PROJECT}'`,
    status: "'paid'",
    amount: '120.50',
    created_at: `'${ago(60)}'`,
    updated_at: `'${ago(60)}'`,
    due_at: `'${ago(5)}'`,
    priority: "'high'",
    source: "'website'",
    product_category: "'hardware'",
    service_type: "'repair'",
    _version: '1',
    is_deleted: '0',
  };
  for (const table of ['biz_orders_v1', 'biz_customers_v1', 'biz_service_records_v1']) {
    const c = (await cols(table)).filter((x) => values[x.name] !== undefined);
    await admin.command(`INSERT INTO ${table} (${c.map((x) => x.name).join(', ')}) VALUES (${c.map((x) => values[x.name]).join(', ')})`);
  }
}

beforeAll(async () => {
  server = await spawnEmbeddedClickHouse({ dataDir, timeoutMs: 60_000 });
  const root = new ClickHouse({ url: server.url, ...server.auth(), database: 'default' });
  await migrateClickHouse({ admin: root, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  await root.close();
  admin = new ClickHouse({ url: server.url, ...server.auth(), database, requestTimeoutMs: 30_000 });
  readonly = new ClickHouse({ url: server.url, ...server.auth(true), database, requestTimeoutMs: 30_000 });
  await seed();
}, 120_000);

afterAll(async () => {
  await readonly?.close();
  await admin?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const RANGE = { from: Date.now() - 6 * 3_600_000, to: Date.now() + 60_000, intervalS: 300 };

async function runQuery(sql: string): Promise<Record<string, unknown>[]> {
  const rs = await readonly.client.query({ query: sql, format: 'JSONEachRow' });
  return rs.json();
}

describe('Grafana dashboard queries against the migrated schema', () => {
  const cases = dashboards.flatMap(({ file, dash }) => [
    ...((dash.templating?.list ?? []) as Obj[])
      .filter((v) => v.type === 'query')
      .map((v) => ({ name: `${file} variable ${v.name}`, sql: String(v.query), uid: dash.uid as string, title: `variable ${v.name}` })),
    ...((dash.panels ?? []) as Obj[]).flatMap((p) =>
      ((p.targets ?? []) as Obj[]).map((t) => ({ name: `${file} panel "${p.title}"`, sql: String(t.rawSql), uid: dash.uid as string, title: String(p.title) })),
    ),
  ]);
  const results = new Map<string, Record<string, unknown>[]>();

  it.each(cases.map((c) => [c.name, c]))('%s runs (all values, then one value per variable)', async (_n, c) => {
    const { sql, uid, title } = c as (typeof cases)[number];
    const all = await runQuery(expandGrafanaSql(sql, { ...RANGE, vars: { project: [PROJECT], event: 'all', host: 'all', service: 'all' } }));
    await runQuery(expandGrafanaSql(sql, { ...RANGE, vars: { project: [PROJECT], event: ['page_view'], host: ['h1'], service: ['web'] } }));
    results.set(`${uid}/${title}`, all);
  });

  it('answers with the seeded data: events, request rate and errors, latency, orders, health', () => {
    const first = (key: string): Record<string, unknown> => {
      const rows = results.get(key);
      expect({ key, rows: (rows ?? []).length > 0 }).toEqual({ key, rows: true });
      return rows![0]!;
    };
    expect(Number(first('tidemark-overview/Events in range').events)).toBe(3);
    expect(results.get('tidemark-overview/Top events')!.map((r) => r.name)).toEqual(['page_view', 'purchase']);
    const rps = results.get('tidemark-system/HTTP requests per second by service')!;
    expect(rps.reduce((n, r) => n + Number(r.per_second), 0)).toBeGreaterThan(0);
    const errors = results.get('tidemark-system/HTTP error rate (5xx) by service')!;
    expect(Math.max(...errors.map((r) => Number(r.error_rate)))).toBeGreaterThan(0);
    expect(Number(first('tidemark-system/HTTP latency percentiles').p99)).toBeGreaterThan(0);
    expect(Number(first('tidemark-business/Orders').orders)).toBe(1);
    expect(Number(first('tidemark-business/Order amount (all statuses)').total_amount)).toBeCloseTo(120.5);
    expect(first('tidemark-health/Databases (latest db_up)')).toMatchObject({ db: 'orders' });
    expect(Number(first('tidemark-health/Databases (latest db_up)').up)).toBe(0);
    expect(results.get('tidemark-overview/variable project')!.map((r) => Object.values(r)[0])).toEqual([PROJECT]);
  });
});

describe('deploy/clickhouse-cluster/distributed.sql', () => {
  it('every statement parses', async () => {
    const stmts = read(path.join(DEPLOY, 'clickhouse-cluster', 'distributed.sql'))
      .replace(/--[^\n]*/g, '')
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    expect(stmts.length).toBeGreaterThan(10);
    for (const s of stmts) {
      const rs = await admin.client.query({ query: `EXPLAIN AST ${s}`, format: 'TabSeparatedRaw' });
      expect(await rs.text()).toMatch(/CreateQuery/);
    }
  });
});
