import { z } from 'zod';
import { envBool, port, positiveInt, url, optional } from './fields';

/**
 * The settings every process reads (engines, stores, Kafka, ports), by
 * environment variable name. Each role adds its own slice
 * (packages/<role>/src/settings.ts) and the CLI composes them into the
 * platform schema (packages/cli/src/config.ts), parsed once at start.
 */
export const configSchema = z.object({
  // --- general -------------------------------------------------------------
  /** development | production | test; production turns off pretty defaults. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where embedded engines keep their data (chDB, PGlite). Kept across restarts. */
  TIDEMARK_DATA_DIR: z.string().min(1).default('./data'),
  /** Address every HTTP listener of the platform binds to. */
  TIDEMARK_HOST: z.string().min(1).default('127.0.0.1'),
  /** How long a graceful shutdown may take before the process exits anyway (ms). */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  /** How long a starting process waits for ClickHouse and the metadata Postgres to answer (ms), retrying with backoff; they may start after it (compose, Kubernetes). 0: fail at once. */
  STARTUP_WAIT_MS: z.coerce.number().int().min(0).default(120_000),

  // --- ClickHouse ----------------------------------------------------------
  /** ClickHouse HTTP URL of a server or cluster. Unset: the embedded chDB engine is started and served on EMBEDDED_CLICKHOUSE_PORT. */
  CLICKHOUSE_URL: optional(url),
  /** ClickHouse user of the platform's own reads and writes. */
  CLICKHOUSE_USER: z.string().min(1).default('default'),
  /** Its password (redacted from logs). */
  CLICKHOUSE_PASSWORD: z.string().default(''),
  /** Database holding every Tidemark table. */
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
    .default('tidemark'),
  /** Cluster name: when set, migrations run ON CLUSTER with Replicated engines. */
  CLICKHOUSE_CLUSTER: optional(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a plain identifier')),
  /** Read-only ClickHouse user for analyst SQL and rule SQL. */
  CLICKHOUSE_READONLY_USER: z.string().min(1).default('tidemark_readonly'),
  /** Its password (redacted from logs). */
  CLICKHOUSE_READONLY_PASSWORD: z.string().default(''),
  /** Per-request timeout of the ClickHouse client (ms). */
  CLICKHOUSE_REQUEST_TIMEOUT_MS: positiveInt.default(60_000),
  /** Port of the embedded ClickHouse HTTP interface (0 = any free port). */
  EMBEDDED_CLICKHOUSE_PORT: port.default(8123),
  /** Days raw events, metric samples and logs are kept (rollups are kept forever). */
  RAW_RETENTION_DAYS: positiveInt.default(90),

  // --- metadata Postgres ---------------------------------------------------
  /** Postgres URL for rules, alert state, outbox, API keys and checkpoints. Unset: embedded PGlite served on EMBEDDED_POSTGRES_PORT. */
  META_DATABASE_URL: optional(url),
  /** Port of the embedded PGlite Postgres wire server (0 = any free port). */
  EMBEDDED_POSTGRES_PORT: port.default(5433),
  /** Connections in each role's Postgres pool. */
  META_DATABASE_POOL_SIZE: positiveInt.default(10),

  // --- Kafka ---------------------------------------------------------------
  /** Comma-separated Kafka bootstrap brokers. Unset: embedded mode, the collector writes to ClickHouse directly. */
  KAFKA_BROKERS: optional(z.string().regex(/^[^,\s]+(,[^,\s]+)*$/, 'must be host:port[,host:port...]')),
  /** Client id Kafka sees from this process. */
  KAFKA_CLIENT_ID: z.string().min(1).default('tidemark'),
  /** Prefix of every Tidemark topic, e.g. "tidemark." gives tidemark.events. */
  KAFKA_TOPIC_PREFIX: z.string().default('tidemark.'),

  // --- Redis ---------------------------------------------------------------
  /** Redis URL for caches and realtime counters. Unset: an in-process store. */
  REDIS_URL: optional(z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')),

  // --- HTTP roles ----------------------------------------------------------
  /** Port of the collector's ingest API. */
  COLLECTOR_PORT: port.default(4318),
  /** Port of the query API and dashboard. */
  API_PORT: port.default(4000),
  /** Port of the ops server (GET /health, /ready, /metrics) of a process running roles without an HTTP port of their own (consumer, alerting, etl, monitor); 0 = any free port. */
  OPS_PORT: port.default(9464),

  // --- embedded demo -------------------------------------------------------
  /** Demo data on every dashboard page (what `tidemark start --demo` sets): the ETL demo source (ETL_DEMO), a steady flow of product events, service metrics and logs through this process's collector into the project "default" (two days of history on the first demo start), health checks of the platform's own endpoints, and two demo alert rules that fire on that traffic. */
  TIDEMARK_DEMO: envBool.default(false),
});

/** The core slice of the configuration: what every role reads. Roles extend it (RoleContext<C>). */
export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
/** Names of the core settings (each role's slice names its own). */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof Config)[];
