/**
 * The monitor role as `tidemark start` runs it: a real RoleContext (config
 * parsed by the platform's schema, the stack's ClickHouse and Postgres),
 * samples through the real collector, its own ingest key made and reused,
 * the platform's stores watched, and the opt-in usage heartbeat landed in
 * the stats project (the statistics over heartbeats are the query API's
 * usage routes, tested in packages/api/test/usage.int.test.ts).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApiKey, createMetricsRegistry, ensureProject, Lifecycle, parseConfig, MemoryStore, type RoleContext } from '@tidemark/core';
import {
  HEARTBEAT_EVENT,
  INSTALL_ID_FILE,
  MONITOR_KEY_FILE,
  monitorRole,
  resolveMonitorKey,
  tidemarkVersion,
  monitorRoleConfigSchema,
  type MonitorRoleConfig,
} from '../src';
import { kafkaBrokers, latest, logger, redisUrl, sleep, startStack, unique, type Stack } from './harness';

let stack: Stack;
let statsProject: string;
let statsKey: string;

beforeAll(async () => {
  stack = await startStack();
  statsProject = unique('stats').toLowerCase().slice(0, 60);
  await ensureProject(stack.meta, statsProject);
  statsKey = (await createApiKey(stack.meta, { projectId: statsProject, role: 'ingest' })).key;
});

afterAll(async () => {
  await stack?.close();
});

function context(env: Record<string, string>): RoleContext<MonitorRoleConfig> {
  const config = parseConfig(monitorRoleConfigSchema, env);
  return {
    config,
    logger,
    lifecycle: new Lifecycle(logger, 10_000),
    clickhouse: stack.ch,
    meta: stack.meta,
    kv: new MemoryStore(),
    metrics: createMetricsRegistry(),
  };
}

test('the role samples the system, health-checks, watches the platform stores, reports usage, and stops cleanly', async () => {
  const service = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()));
  const dataDir = path.join(stack.dataDir, 'platform');
  const ctx = context({
    TIDEMARK_DATA_DIR: dataDir,
    ...stack.server.configEnv(),
    KAFKA_BROKERS: kafkaBrokers,
    REDIS_URL: redisUrl,
    MONITOR_COLLECTOR_URL: stack.collectorUrl,
    MONITOR_PROJECT: stack.project,
    MONITOR_SYSTEM_INTERVAL_MS: '500',
    MONITOR_HEALTHCHECK_TARGETS: `web=http://127.0.0.1:${(service.address() as AddressInfo).port}/`,
    MONITOR_HEALTHCHECK_INTERVAL_MS: '500',
    MONITOR_DATABASE_INTERVAL_MS: '1000',
    TIDEMARK_USAGE_STATS: 'true',
    TIDEMARK_USAGE_STATS_URL: stack.collectorUrl,
    TIDEMARK_USAGE_STATS_KEY: statsKey,
  });
  try {
    expect(await monitorRole.start(ctx)).toEqual([]);
    await sleep(2_500);
  } finally {
    await ctx.lifecycle.stop('test done');
    await new Promise<void>((r) => service.close(() => r()));
  }

  // Its own key, saved for the next start, in the configured project.
  const saved = JSON.parse(fs.readFileSync(path.join(dataDir, MONITOR_KEY_FILE), 'utf8')) as { project: string; key: string };
  expect(saved.project).toBe(stack.project);
  expect(fs.statSync(path.join(dataDir, MONITOR_KEY_FILE)).mode & 0o777).toBe(0o600);
  expect(await resolveMonitorKey(ctx)).toEqual({ key: saved.key, project: stack.project, source: 'file' });

  const projects = await stack.rows<{ p: string }>("SELECT DISTINCT project_id AS p FROM metrics_raw_v1 WHERE name = 'system_cpu_percent'");
  expect(projects).toEqual([{ p: stack.project }]);
  const cpu = await stack.rows<{ n: string }>("SELECT count() AS n FROM metrics_raw_v1 WHERE name = 'system_cpu_percent' AND labels['host'] != ''");
  expect(Number(cpu[0]!.n)).toBeGreaterThanOrEqual(3);
  expect(await latest(stack, 'healthcheck_up', ['target'])).toEqual({ web: 1 });
  expect(await latest(stack, 'db_up', ['db', 'kind'])).toEqual({ 'platform|clickhouse': 1, 'platform|postgres': 1, 'platform|kafka': 1, 'platform|redis': 1 });

  // The monitor's own Prometheus metrics, for /metrics of its process.
  const prom = await ctx.metrics.metrics();
  expect(prom).toMatch(/tidemark_monitor_probe_runs_total\{probe="system",result="ok"\} \d+/);
  expect(prom).toMatch(/tidemark_monitor_probe_runs_total\{probe="postgres:platform",result="ok"\} \d+/);

  // The heartbeat: the install id of the data directory, in the stats project, nothing else.
  const installId = fs.readFileSync(path.join(dataDir, INSTALL_ID_FILE), 'utf8').trim();
  const beats = await stack.rows<{ distinct_id: string; os: string; app_version: string; properties: string }>(
    'SELECT distinct_id, os, app_version, properties FROM events_raw_v1 WHERE project_id = {p:String} AND name = {e:String}',
    { p: statsProject, e: HEARTBEAT_EVENT },
  );
  expect(beats).toEqual([{ distinct_id: installId, os: process.platform, app_version: tidemarkVersion(), properties: expect.any(String) }]);
  expect(JSON.parse(beats[0]!.properties)).toEqual({
    os: process.platform,
    arch: process.arch,
    tidemark_version: tidemarkVersion(),
    node_version: process.versions.node,
    deployment: 'cluster',
  });
}, 60_000);

test('with the collector on "any free port" and no MONITOR_COLLECTOR_URL the role does not start (nowhere to send)', async () => {
  const dataDir = path.join(stack.dataDir, 'idle');
  const ctx = context({ TIDEMARK_DATA_DIR: dataDir, COLLECTOR_PORT: '0' });
  expect(await monitorRole.start(ctx)).toEqual([]);
  await ctx.lifecycle.stop('test done');
  expect(fs.existsSync(path.join(dataDir, MONITOR_KEY_FILE))).toBe(false);
});
