/**
 * `tidemark start --demo` (TIDEMARK_DEMO=true): a platform with live data
 * on every dashboard page, for trying Tidemark out.
 *
 * - Business tables: the ETL demo source (ETL_DEMO), switched on by
 *   demoConfig: customers, orders, service records... in the metadata
 *   Postgres, changed continuously and synced into the biz_* tables.
 * - Product events, service metrics and logs: the traffic generator
 *   (./traffic.ts) sends them through the collector with the SDK, into the
 *   project "default" (the one the first start's keys belong to), after
 *   writing two days of history on the first demo start.
 * - Health: the platform's own endpoints are health-checked by the monitor.
 * - Alerts: two demo rules (API rules of project "default") that fire on
 *   what the generator does: payment errors (always) and slow checkouts
 *   (four minutes in every twenty).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AlertingService, readonlyClickHouse } from '@tidemark/alerting';
import { ApiKeyVerifier, ConflictError, createApiKey, ensureProject, type ClickHouse, type Logger } from '@tidemark/core';
import type { PlatformConfig } from '../config';
import { TidemarkClient, type TidemarkSdkError } from '@tidemark/sdk';
import type { Pool } from 'pg';
import { backfill, DemoTraffic } from './traffic';

/** The project demo data lands in: the one `tidemark start` creates keys for on the first start. */
export const DEMO_PROJECT = 'default';
/** Where the demo keeps the ingest key it made for itself (mode 0600, like bootstrap-keys.json). */
export const DEMO_KEY_FILE = 'demo-ingest-key.json';

/** The demo's alert rules (the same schema as rule files; docs/alerting.md). */
export const DEMO_RULES = [
  {
    name: 'DemoPaymentErrors',
    description: 'Demo: more than 5% of payment requests failed with a 5xx over the last 10 minutes.',
    interval: '15s',
    for: '30s',
    keep_firing_for: '2m',
    severity: 'CRITICAL',
    sql: `SELECT labels['service'] AS service,
       countIf(toUInt16OrZero(labels['status']) >= 500) / count() * 100 AS value,
       count() AS requests
FROM metrics_raw_v1
WHERE project_id = {project_id:String} AND name = 'http_request_duration_ms' AND labels['service'] = 'payments'
  AND timestamp > {now:DateTime64(3, 'UTC')} - INTERVAL 10 MINUTE AND timestamp <= {now:DateTime64(3, 'UTC')}
GROUP BY service
HAVING requests >= 20`,
    value_column: 'value',
    condition: { op: '>', threshold: 5 },
    labels: { team: 'payments' },
    annotations: { summary: '{{ value | round:1 }}% of {{ columns.requests }} payment requests failed in 10 minutes' },
    no_data: { state: 'ok' },
  },
  {
    name: 'DemoCheckoutLatency',
    description: 'Demo: the 95th percentile of checkout requests above 1 s over the last 5 minutes (the demo slows checkout down for 4 minutes in every 20).',
    interval: '15s',
    for: '1m',
    sql: `SELECT labels['route'] AS route, quantile(0.95)(value) AS value, count() AS requests
FROM metrics_raw_v1
WHERE project_id = {project_id:String} AND name = 'http_request_duration_ms' AND labels['route'] = '/api/checkout'
  AND timestamp > {now:DateTime64(3, 'UTC')} - INTERVAL 5 MINUTE AND timestamp <= {now:DateTime64(3, 'UTC')}
GROUP BY route
HAVING requests >= 5`,
    value_column: 'value',
    condition: { op: '>', thresholds: { WARNING: 1000, CRITICAL: 2500 } },
    labels: { team: 'shop' },
    annotations: { summary: 'checkout p95 {{ value | round:0 }} ms over 5 minutes' },
    no_data: { state: 'ok' },
  },
];

/**
 * The configuration of a demo start: the ETL demo source on, and, when no
 * health checks are configured and the ports are fixed, checks of the
 * platform's own endpoints (a port of 0 is only known once bound, after the
 * monitor has started, so those are left out).
 */
export function demoConfig(config: PlatformConfig): PlatformConfig {
  if (!config.TIDEMARK_DEMO) return config;
  const host =
    config.TIDEMARK_HOST === '0.0.0.0' || config.TIDEMARK_HOST === '::'
      ? '127.0.0.1'
      : config.TIDEMARK_HOST.includes(':')
        ? `[${config.TIDEMARK_HOST}]`
        : config.TIDEMARK_HOST;
  const targets: string[] = [];
  if (config.COLLECTOR_PORT > 0) targets.push(`collector=http://${host}:${config.COLLECTOR_PORT}/health`);
  if (config.API_PORT > 0) targets.push(`api=http://${host}:${config.API_PORT}/health`);
  if (!config.CLICKHOUSE_URL && config.EMBEDDED_CLICKHOUSE_PORT > 0) targets.push(`clickhouse=http://${host}:${config.EMBEDDED_CLICKHOUSE_PORT}/ping`);
  if (!config.META_DATABASE_URL && config.EMBEDDED_POSTGRES_PORT > 0) targets.push(`postgres=tcp://${host}:${config.EMBEDDED_POSTGRES_PORT}`);
  return {
    ...config,
    ETL_DEMO: true,
    MONITOR_HEALTHCHECK_TARGETS: config.MONITOR_HEALTHCHECK_TARGETS || targets.join(','),
  };
}

/** The demo's ingest key: the one saved by an earlier demo start if it still works, else a new one. */
async function demoIngestKey(config: PlatformConfig, meta: Pool): Promise<string> {
  const file = path.resolve(config.TIDEMARK_DATA_DIR, DEMO_KEY_FILE);
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { project?: string; key?: string };
    if (saved.project === DEMO_PROJECT && typeof saved.key === 'string') {
      const p = await new ApiKeyVerifier(meta).require(saved.key, 'ingest');
      if (p.projectId === DEMO_PROJECT) return saved.key;
    }
  } catch {
    // No file yet or a revoked key: make a new one.
  }
  const { key } = await createApiKey(meta, { projectId: DEMO_PROJECT, role: 'ingest', description: 'tidemark demo traffic (created on start --demo)' });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ project: DEMO_PROJECT, key }, null, 2), { mode: 0o600 });
  return key;
}

/** Creates the demo rules, or brings them up to date (an earlier version's rule is replaced). */
async function ensureDemoRules(config: PlatformConfig, clickhouseUrl: string, meta: Pool, logger: Logger): Promise<string[]> {
  const readonly = readonlyClickHouse(config, clickhouseUrl);
  const svc = new AlertingService({ meta, readonly, config, logger });
  try {
    for (const rule of DEMO_RULES) {
      try {
        await svc.createRule(DEMO_PROJECT, rule);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        await svc.updateRule(DEMO_PROJECT, rule.name, rule);
      }
    }
    return DEMO_RULES.map((r) => r.name);
  } finally {
    await svc.close();
    await readonly.close();
  }
}

export interface DemoHandle {
  project: string;
  rules: string[];
  collectorUrl: string;
  /** Settles when the first start's history is written (at once when there was history already). */
  backfilled: Promise<{ events: number; requests: number } | null>;
  stop(): Promise<void>;
}

export async function startDemo(ctx: {
  config: PlatformConfig;
  logger: Logger;
  meta: Pool;
  clickhouse: ClickHouse;
  collectorUrl: string;
}): Promise<DemoHandle> {
  const { config, logger, meta, clickhouse } = ctx;
  await ensureProject(meta, DEMO_PROJECT, 'Default project');
  const key = await demoIngestKey(config, meta);
  const rules = await ensureDemoRules(config, clickhouse.options.url, meta, logger);
  const sdk = (maxQueueSize: number): TidemarkClient =>
    new TidemarkClient({
      endpoint: ctx.collectorUrl,
      apiKey: key,
      service: 'demo',
      maxQueueSize,
      maxBatchSize: 5_000,
      flushOnExit: false,
      onError: (e: TidemarkSdkError) => {
        if (e.code === 'SEND_RETRY') logger.debug({ code: e.code, error: e.message }, 'demo data not delivered yet; retrying');
        else logger.warn({ code: e.code, error: e.message, items: e.items }, 'demo data lost or refused');
      },
    });
  // Two clients: the live trickle must not wait in a queue behind the history (the ingest lag would show it).
  const client = sdk(20_000);
  const history = sdk(200_000);
  const traffic = new DemoTraffic(client);
  traffic.start();
  const abort = new AbortController();
  // History only once: a platform that already has demo events older than three hours has it.
  const backfilled = (async () => {
    const rs = await clickhouse.client.query({
      query: `SELECT count() AS n FROM events_raw_v1 WHERE project_id = {p:String} AND timestamp < now() - INTERVAL 3 HOUR AND name = 'session.start'`,
      query_params: { p: DEMO_PROJECT },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ n: string }>();
    if (Number(row?.n ?? 0) > 0) return null;
    const t0 = Date.now();
    const done = await backfill(history, { until: t0, signal: abort.signal });
    logger.info({ ...done, ms: Date.now() - t0 }, 'demo history written');
    return done;
  })().catch((err: unknown) => {
    logger.warn({ err }, 'demo history not written');
    return null;
  });
  logger.info({ project: DEMO_PROJECT, collector: ctx.collectorUrl, rules }, 'demo traffic running');
  return {
    project: DEMO_PROJECT,
    rules,
    collectorUrl: ctx.collectorUrl,
    backfilled,
    async stop() {
      abort.abort();
      traffic.stop();
      await backfilled;
      await Promise.all([client.shutdown(5_000), history.shutdown(5_000)]);
    },
  };
}
