import fs from 'node:fs';
import path from 'node:path';
import { gauge, type Role, type RoleContext } from '@tidemark/core';
import type { MonitorRoleConfig } from './settings';
import { TidemarkClient, type TidemarkSdkError } from '@tidemark/sdk';
import { parseKafkaTarget, parseTargetList } from './config/targets';
import { ClickHouseProbe } from './db/clickhouse';
import { KafkaProbe } from './db/kafka';
import { PostgresProbe } from './db/postgres';
import { RedisProbe } from './db/redis';
import { HealthProbe, type HealthTarget } from './health/probe';
import { resolveMonitorKey } from './key';
import { ownTargets, waitForPorts } from './schedule/own-ports';
import { ProbeRunner, type Probe } from './schedule/runner';
import { ScrapeProbe } from './scrape/probe';
import { SystemProbe } from './system/probe';
import { TargetProbe } from './schedule/target-probe';
import { UsageReporter } from './usage/heartbeat';
import { readOrCreateInstallId } from './usage/install-id';

/** Tidemark's version, from this package (the packages are released together). */
export function tidemarkVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** How long the first checks of the platform's own ports wait for them to open (a role that never listens is then "down"). */
const OWN_PORTS_WAIT_MS = 60_000;

/** A running monitor: its probes, the SDK client they send through, and the usage reporter. */
export interface Monitor {
  client: TidemarkClient;
  runner: ProbeRunner;
  probes: Probe[];
  collectorUrl: string;
  installId: string;
  usage: UsageReporter;
  /** Runs every probe once now and waits for the samples to be delivered (tests, `tidemark monitor --once`). */
  runOnce(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** The probes the configuration asks for. */
export function buildProbes(ctx: RoleContext<MonitorRoleConfig>, client: TidemarkClient): Probe[] {
  const c = ctx.config;
  const logger = ctx.logger;
  const timeoutMs = c.MONITOR_HEALTHCHECK_TIMEOUT_MS;
  const dbBase = { intervalMs: c.MONITOR_DATABASE_INTERVAL_MS, timeoutMs, logger };
  const probes: Probe[] = [];
  if (c.MONITOR_SYSTEM_INTERVAL_MS > 0) probes.push(new SystemProbe(client, c.MONITOR_SYSTEM_INTERVAL_MS));
  const health: HealthTarget[] = parseTargetList('MONITOR_HEALTHCHECK_TARGETS', c.MONITOR_HEALTHCHECK_TARGETS, ['http', 'https', 'tcp']).map((t) => ({
    ...t,
    kind: t.url.startsWith('tcp:') ? 'tcp' : 'http',
  }));
  if (health.length > 0) probes.push(new HealthProbe(health, client, c.MONITOR_HEALTHCHECK_INTERVAL_MS, timeoutMs, logger));
  const scrape = parseTargetList('MONITOR_SCRAPE_TARGETS', c.MONITOR_SCRAPE_TARGETS, ['http', 'https']);
  if (scrape.length > 0) probes.push(new ScrapeProbe(scrape, client, c.MONITOR_SCRAPE_INTERVAL_MS, timeoutMs, logger));

  for (const t of parseTargetList('MONITOR_POSTGRES_URLS', c.MONITOR_POSTGRES_URLS, ['postgres', 'postgresql'])) {
    probes.push(new PostgresProbe({ ...dbBase, name: t.name, url: t.url, slowMs: c.MONITOR_PG_SLOW_STATEMENT_MS }, client));
  }
  for (const t of parseTargetList('MONITOR_CLICKHOUSE_URLS', c.MONITOR_CLICKHOUSE_URLS, ['http', 'https'])) {
    probes.push(new ClickHouseProbe({ ...dbBase, name: t.name, url: t.url }, client));
  }
  for (const t of parseTargetList('MONITOR_REDIS_URLS', c.MONITOR_REDIS_URLS, ['redis', 'rediss'])) {
    probes.push(new RedisProbe({ ...dbBase, name: t.name, url: t.url }, client));
  }
  const kafka = parseKafkaTarget('MONITOR_KAFKA_BROKERS', c.MONITOR_KAFKA_BROKERS);
  if (kafka) probes.push(new KafkaProbe({ ...dbBase, ...kafka }, client));

  if (c.MONITOR_WATCH_PLATFORM) {
    // The platform's own stores, through the connections it already has where it has them.
    probes.push(new ClickHouseProbe({ ...dbBase, name: 'platform', client: ctx.clickhouse }, client));
    probes.push(new PostgresProbe({ ...dbBase, name: 'platform', pool: ctx.meta, slowMs: c.MONITOR_PG_SLOW_STATEMENT_MS }, client));
    if (c.KAFKA_BROKERS && c.KAFKA_BROKERS !== kafka?.brokers) probes.push(new KafkaProbe({ ...dbBase, name: 'platform', brokers: c.KAFKA_BROKERS }, client));
    if (c.REDIS_URL) probes.push(new RedisProbe({ ...dbBase, name: 'platform', url: c.REDIS_URL }, client));
  }
  return probes;
}

/** The SDK client the samples go through: no SDK metrics of its own, a queue with room for a collector restart. */
function monitorClient(collectorUrl: string, key: string, logger: RoleContext['logger']): TidemarkClient {
  return new TidemarkClient({
    endpoint: collectorUrl,
    apiKey: key,
    service: 'tidemark-monitor',
    // Probes send samples as they measure them: there are no SDK counters to snapshot.
    metricsIntervalMs: 0,
    // Room for a few scrapes of big exporters while the collector restarts.
    maxQueueSize: 100_000,
    maxBatchSize: 2_000,
    flushOnExit: false,
    onError: (e: TidemarkSdkError) => {
      if (e.code === 'SEND_RETRY') logger.debug({ code: e.code, error: e.message }, 'monitor samples not delivered yet; retrying');
      else logger.warn({ code: e.code, error: e.message, items: e.items }, 'monitor samples lost or refused');
    },
  });
}

/**
 * Starts monitoring: resolves the ingest key, makes the SDK client that
 * sends every sample through the collector's HTTP API (one code path for
 * the monitor and any other producer, in one process or across machines),
 * starts the probes, and, when opted in, the usage heartbeat.
 */
export async function startMonitor(ctx: RoleContext<MonitorRoleConfig>): Promise<Monitor> {
  const c = ctx.config;
  const logger = ctx.logger;
  const { key, source } = await resolveMonitorKey(ctx);
  const collectorUrl = c.MONITOR_COLLECTOR_URL ?? `http://${c.TIDEMARK_HOST.includes(':') ? `[${c.TIDEMARK_HOST}]` : c.TIDEMARK_HOST}:${c.COLLECTOR_PORT}`;
  const client = monitorClient(collectorUrl, key, logger);
  let probes: Probe[];
  try {
    probes = buildProbes(ctx, client);
  } catch (err) {
    await client.shutdown(0);
    throw err;
  }
  const runner = new ProbeRunner(probes, logger, ctx.metrics);
  // Probes of the platform's own listeners (collector, API, ops) wait until those accept connections: in one
  // process the monitor starts before them, and a first check would record a false "down" at every start.
  let stopping = false;
  const own = [c.COLLECTOR_PORT, c.API_PORT, c.OPS_PORT].filter((p) => p > 0);
  const gates = new Map<string, Promise<boolean>>();
  for (const p of probes) {
    const urls = p instanceof TargetProbe ? p.targetUrls() : [];
    const mine = ownTargets(urls, own, c.TIDEMARK_HOST);
    if (mine.length > 0) gates.set(p.name, waitForPorts(mine, { timeoutMs: OWN_PORTS_WAIT_MS, logger, stopped: () => stopping }));
  }
  runner.start(gates);

  // The SDK's queue as Prometheus gauges: a monitor that cannot deliver shows it on /metrics.
  const queued = gauge(ctx.metrics, 'tidemark_monitor_samples_queued', 'Monitor samples waiting to be delivered');
  const dropped = gauge(ctx.metrics, 'tidemark_monitor_samples_dropped', 'Monitor samples dropped because the queue was full');
  const statsTimer = setInterval(() => {
    const s = client.stats().metrics;
    queued.set(s.queued + s.inflight);
    dropped.set(s.dropped);
  }, 5_000);
  statsTimer.unref();

  const install = readOrCreateInstallId(path.resolve(c.TIDEMARK_DATA_DIR));
  const usage = new UsageReporter({
    enabled: c.TIDEMARK_USAGE_STATS,
    url: c.TIDEMARK_USAGE_STATS_URL,
    apiKey: c.TIDEMARK_USAGE_STATS_KEY,
    installId: install.id,
    version: tidemarkVersion(),
    deployment: c.CLICKHOUSE_URL ? 'cluster' : 'embedded',
    logger,
  });
  usage.start();
  logger.info({ collector: collectorUrl, key: source, probes: probes.map((p) => p.name) }, 'monitor started');

  return {
    client,
    runner,
    probes,
    collectorUrl,
    installId: install.id,
    usage,
    async runOnce(timeoutMs = 30_000) {
      await runner.runAll();
      return client.flush({ timeoutMs });
    },
    async stop() {
      stopping = true;
      clearInterval(statsTimer);
      await runner.stop();
      await usage.stop();
      // Samples measured last are still delivered, within a bound: shutdown must not hang on a dead collector.
      await client.shutdown(5_000);
    },
  };
}

/** The monitor role (`tidemark start --role monitor`, and part of `tidemark start`). */
export const monitorRole: Role<'monitor', MonitorRoleConfig> = {
  name: 'monitor',
  description:
    'System metrics, HTTP/TCP health checks, database health (Postgres, ClickHouse, Kafka, Redis) and Prometheus scraping, sent as metrics through the collector; opt-in anonymous usage statistics',
  async start(ctx) {
    if (!ctx.config.MONITOR_COLLECTOR_URL && ctx.config.COLLECTOR_PORT === 0) {
      // Tests and benchmarks start the platform on any free port; the monitor cannot learn which.
      ctx.logger.warn(
        'monitor not started: COLLECTOR_PORT is 0 (any free port) and MONITOR_COLLECTOR_URL is unset, so there is no collector address to send to',
      );
      return [];
    }
    const monitor = await startMonitor(ctx);
    ctx.lifecycle.onStop('monitor', () => monitor.stop());
    return [];
  },
};
