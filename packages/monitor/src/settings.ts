import { z } from 'zod';
import { configFields, configSchema, type Config } from '@tidemark/core';

const { envBool, positiveInt, url, optional } = configFields;

/**
 * This role's settings (the monitor: system metrics, health checks, scrapes, watched databases, usage statistics), by environment variable name, with a
 * comment per key. The CLI composes every role's slice with core's into the
 * platform schema (packages/cli/src/config.ts), parsed once at start.
 */
export const monitorSettings = z.object({
  /** Collector the monitor sends its samples to. Unset: this platform's collector, http://TIDEMARK_HOST:COLLECTOR_PORT (set it when COLLECTOR_PORT is 0 or the collector runs elsewhere). */
  MONITOR_COLLECTOR_URL: optional(url),
  /** Ingest key the monitor sends with (redacted from logs). Unset: the monitor creates one for MONITOR_PROJECT on first start and keeps it in the data directory. */
  MONITOR_INGEST_KEY: optional(z.string().min(1)),
  /** Project the monitor's samples land in when it creates its own ingest key. */
  MONITOR_PROJECT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a project id')
    .default('default'),
  /** How often system metrics are sampled (ms): CPU, memory, disks, network, load average, processes; 0 turns them off. */
  MONITOR_SYSTEM_INTERVAL_MS: z.coerce.number().int().min(0).default(15_000),
  /** Health-check targets, comma-separated, each [name=]URL: http(s)://... (up when it answers below 400) or tcp://host:port (up when it accepts). */
  MONITOR_HEALTHCHECK_TARGETS: z.string().default(''),
  /** How often each health-check target is checked (ms). */
  MONITOR_HEALTHCHECK_INTERVAL_MS: positiveInt.default(15_000),
  /** Longest a health check, database check or scrape waits for its target (ms); slower counts as down. */
  MONITOR_HEALTHCHECK_TIMEOUT_MS: positiveInt.default(5_000),
  /** Prometheus endpoints to scrape, comma-separated, each [job=]URL of a page in the text exposition format (usually /metrics). */
  MONITOR_SCRAPE_TARGETS: z.string().default(''),
  /** How often each Prometheus endpoint is scraped (ms). */
  MONITOR_SCRAPE_INTERVAL_MS: positiveInt.default(15_000),
  /** Postgres servers to watch, comma-separated, each [name=]postgres://URL: reachable, version, connections, slow statements (pg_stat_statements). */
  MONITOR_POSTGRES_URLS: z.string().default(''),
  /** ClickHouse servers to watch, comma-separated, each [name=]http(s)://[user:password@]host:port: ping, version, parts, merges, replication. */
  MONITOR_CLICKHOUSE_URLS: z.string().default(''),
  /** Redis servers to watch, comma-separated, each [name=]redis://URL: ping, memory, clients. */
  MONITOR_REDIS_URLS: z.string().default(''),
  /** One Kafka cluster whose consumer groups' lag is watched: [name=]host:port[,host:port...]. */
  MONITOR_KAFKA_BROKERS: z.string().default(''),
  /** How often the watched databases are checked (ms). */
  MONITOR_DATABASE_INTERVAL_MS: positiveInt.default(30_000),
  /** Also watch the platform's own stores: its ClickHouse, metadata Postgres, Kafka (lag of every consumer group) and Redis. */
  MONITOR_WATCH_PLATFORM: envBool.default(true),
  /** Postgres statements slower than this on average since the previous check (ms) are reported, where pg_stat_statements is installed. */
  MONITOR_PG_SLOW_STATEMENT_MS: positiveInt.default(500),
  /** Opt-in anonymous usage statistics: a daily heartbeat with the random install id, OS and Tidemark version, nothing else (docs/monitoring.md). Off unless set. */
  TIDEMARK_USAGE_STATS: envBool.default(false),
  /** Collector that receives the usage heartbeats (a Tidemark endpoint); needed when TIDEMARK_USAGE_STATS is on. */
  TIDEMARK_USAGE_STATS_URL: optional(url),
  /** Ingest key of the project collecting usage heartbeats at TIDEMARK_USAGE_STATS_URL (redacted from logs). */
  TIDEMARK_USAGE_STATS_KEY: z.string().default(''),
});

/** The configuration this role runs with: core's settings and its own. */
export const monitorRoleConfigSchema = configSchema.extend(monitorSettings.shape);
export type MonitorRoleConfig = Config & z.output<typeof monitorSettings>;
