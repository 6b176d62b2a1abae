import fs from 'node:fs';
import path from 'node:path';
import {
  API_KEY_ROLES,
  ClickHouse,
  CLICKHOUSE_MIGRATIONS_DIR,
  createApiKey,
  ensureProject,
  createKeyValueStore,
  createMetricsRegistry,
  startOpsServer,
  storeReadyChecks,
  createPgPool,
  Lifecycle,
  migrateClickHouse,
  listProjectIds,
  migratePostgres,
  redactUrl,
  retry,
  UnavailableError,
  type Logger,
} from '@tidemark/core';
import type { PlatformConfig } from './config';
// Types only: the embedded ClickHouse (chDB, ~540 MiB, an optional dependency) is loaded by loadEmbeddedClickHouse when it starts.
import type { ResolvedClickHouseCredentials } from '@tidemark/embedded-clickhouse';
import { resolvePostgresCredentials, startEmbeddedPostgres, type ResolvedPostgresCredentials } from '@tidemark/embedded-postgres';
import type { Pool } from 'pg';
import { demoConfig, startDemo, type DemoHandle } from './demo';
import { PLATFORM_POSTGRES_MIGRATION_DIRS } from './meta';
import { ROLES, type Endpoint, type Role, type RoleName } from './roles';

export interface Platform {
  endpoints: Endpoint[];
  /** Keys created on the first embedded start (a project named "default"), and where they were saved. */
  bootstrap?: { file: string; keys: { role: string; key: string }[] };
  /** Credentials of the embedded engines (generated on first start, kept 0600 in the data directory); `created` ones are shown once. */
  secrets: { clickhouse?: ResolvedClickHouseCredentials; postgres?: ResolvedPostgresCredentials };
  /** The configuration the roles run with: the embedded engines' credentials filled in. */
  config: PlatformConfig;
  /** What the start's migration run applied. */
  migrations: Awaited<ReturnType<typeof migrateAll>>;
  embedded: { clickhouse: boolean; postgres: boolean };
  clickhouse: ClickHouse;
  meta: Pool;
  lifecycle: Lifecycle;
  /** The demo (TIDEMARK_DEMO / --demo): its traffic generator and rules. */
  demo?: DemoHandle;
}

/**
 * The embedded ClickHouse engine, loaded only when it is about to start
 * (CLICKHOUSE_URL unset): chDB is an optional dependency that the role images
 * do not install, and loading it maps its whole library into the process.
 */
export async function loadEmbeddedClickHouse(): Promise<typeof import('@tidemark/embedded-clickhouse')> {
  try {
    return await import('@tidemark/embedded-clickhouse');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') && /\bchdb\b|@tidemark\/embedded-clickhouse/.test(e.message)) {
      throw new Error(
        'CLICKHOUSE_URL is not set, so the embedded ClickHouse (chDB) would start, but chDB is not installed here ' +
          '(the role images leave it out). Set CLICKHOUSE_URL to your ClickHouse server, or use the all-in-one image ' +
          '(docker build --target all-in-one) or an install with optional dependencies (npm install).',
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Where ClickHouse and the metadata Postgres are: the configured servers, or
 * embedded engines started in this process on the data directory. Either
 * way every later access goes through @clickhouse/client and pg.
 */
async function connectStores(configured: PlatformConfig, logger: Logger, lifecycle: Lifecycle, endpoints: Endpoint[]) {
  let config = configured;
  const dataDir = path.resolve(config.TIDEMARK_DATA_DIR);
  const secrets: Platform['secrets'] = {};
  let clickhouseUrl = config.CLICKHOUSE_URL;
  if (!clickhouseUrl) {
    fs.mkdirSync(dataDir, { recursive: true });
    const { embeddedUsers, resolveClickHouseCredentials, startEmbeddedClickHouse } = await loadEmbeddedClickHouse();
    // Closed by default: passwords configured, else generated into the data directory.
    const resolved = resolveClickHouseCredentials(config, dataDir);
    secrets.clickhouse = resolved;
    const c = resolved.credentials;
    config = {
      ...config,
      CLICKHOUSE_USER: c.user,
      CLICKHOUSE_PASSWORD: c.password,
      CLICKHOUSE_READONLY_USER: c.readonlyUser,
      CLICKHOUSE_READONLY_PASSWORD: c.readonlyPassword,
    };
    const ch = await startEmbeddedClickHouse({
      dataDir: path.join(dataDir, 'clickhouse'),
      host: config.TIDEMARK_HOST,
      port: config.EMBEDDED_CLICKHOUSE_PORT,
      users: embeddedUsers(c),
      logger: logger.child({ component: 'embedded-clickhouse' }),
    });
    // Both engines stop last, at the same time: neither uses the other.
    lifecycle.onStop('embedded-clickhouse', () => ch.close(), { group: 'embedded-engines' });
    clickhouseUrl = ch.url;
    endpoints.push({ name: 'ClickHouse HTTP (embedded chDB)', url: ch.url });
  }
  let metaUrl = config.META_DATABASE_URL;
  if (!metaUrl) {
    const resolved = resolvePostgresCredentials(dataDir);
    secrets.postgres = resolved;
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      auth: resolved.credentials,
      host: config.TIDEMARK_HOST,
      port: config.EMBEDDED_POSTGRES_PORT,
      logger: logger.child({ component: 'embedded-postgres' }),
    });
    lifecycle.onStop('embedded-postgres', () => pg.close(), { group: 'embedded-engines' });
    metaUrl = pg.url;
    // The printed endpoint never shows the password (it is in the secrets file, and printed once on first start).
    const shown = new URL(pg.url);
    shown.password = '';
    endpoints.push({ name: 'Postgres wire (embedded PGlite, metadata)', url: shown.toString() });
  }
  const admin = new ClickHouse({
    url: clickhouseUrl,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: 'default',
    requestTimeoutMs: config.CLICKHOUSE_REQUEST_TIMEOUT_MS,
  });
  const meta = createPgPool({ url: metaUrl, max: config.META_DATABASE_POOL_SIZE, logger: logger.child({ component: 'meta-postgres' }) });
  lifecycle.onStop('meta-postgres-pool', () => meta.end());
  lifecycle.onStop('clickhouse-admin-client', () => admin.close());
  return { admin, meta, clickhouseUrl, metaUrl, config, secrets };
}

/**
 * First embedded start: with no project at all, a project "default" and one
 * key per role are created so the platform is usable at once. The plain keys
 * are shown once and saved (mode 0600) in the data directory; Postgres keeps
 * only their hashes.
 */
async function bootstrapProject(config: PlatformConfig, meta: Pool): Promise<Platform['bootstrap']> {
  if ((await listProjectIds(meta)).length > 0) return undefined;
  await ensureProject(meta, 'default', 'Default project');
  const keys: { role: string; key: string }[] = [];
  for (const role of API_KEY_ROLES) {
    const { key } = await createApiKey(meta, { projectId: 'default', role, description: 'created on first start' });
    keys.push({ role, key });
  }
  const file = path.resolve(config.TIDEMARK_DATA_DIR, 'bootstrap-keys.json');
  fs.writeFileSync(file, JSON.stringify({ project: 'default', keys }, null, 2), { mode: 0o600 });
  // The mode above applies only when the file is created: an older file is narrowed too.
  fs.chmodSync(file, 0o600);
  return { file, keys };
}

/**
 * Waits until ClickHouse and the metadata Postgres answer, retrying with
 * jittered backoff for up to STARTUP_WAIT_MS. Services in a cluster start in
 * any order and restarted processes meet stores that are briefly away; a
 * process that exits at once only turns that into a restart loop.
 */
async function waitForStores(config: PlatformConfig, logger: Logger, admin: ClickHouse, meta: Pool): Promise<void> {
  const deadline = Date.now() + config.STARTUP_WAIT_MS;
  await retry(
    async () => {
      const ping = await admin.client.ping();
      if (!ping.success)
        throw new UnavailableError(`ClickHouse at ${admin.options.url} does not answer: ${ping.error.message}`, { context: { dependency: 'clickhouse' } });
      await meta.query('SELECT 1');
    },
    {
      retries: Number.MAX_SAFE_INTEGER,
      initialDelayMs: 250,
      maxDelayMs: 5_000,
      dependency: 'postgres',
      retryIf: (err) => err.retriable && Date.now() < deadline,
      onRetry: (err, attempt, delayMs) => logger.warn({ attempt, delayMs, err: err.message }, 'waiting for the stores to answer'),
    },
  );
}

/** Applies both schemas; every start does this, so a newer binary never runs on an older schema. */
export async function migrateAll(config: PlatformConfig, logger: Logger, admin: ClickHouse, meta: Pool) {
  const log = logger.child({ component: 'migrate' });
  const ch = await migrateClickHouse({
    admin,
    database: config.CLICKHOUSE_DATABASE,
    dir: CLICKHOUSE_MIGRATIONS_DIR,
    logger: log,
    ...(config.CLICKHOUSE_CLUSTER ? { cluster: { cluster: config.CLICKHOUSE_CLUSTER } } : {}),
    vars: { raw_retention_days: config.RAW_RETENTION_DAYS },
  });
  const pg = await migratePostgres({ pool: meta, dirs: PLATFORM_POSTGRES_MIGRATION_DIRS, logger: log });
  return { clickhouse: ch, postgres: pg };
}

/** Roles whose producers send through the collector of the same process (see Lifecycle.stopBeforeDrain). */
const SENDS_TO_OWN_COLLECTOR = new Set<RoleName>(['monitor']);

/**
 * Starts the platform: stores (configured or embedded), migrations, then the
 * given roles, all in this process.
 */
export async function startPlatform(opts: { config: PlatformConfig; logger: Logger; roles: RoleName[] | 'all'; lifecycle?: Lifecycle }): Promise<Platform> {
  const { logger } = opts;
  // A demo start turns on the ETL demo source and health checks of the platform itself.
  let config = demoConfig(opts.config);
  const lifecycle = opts.lifecycle ?? new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  const endpoints: Endpoint[] = [];
  try {
    const stores = await connectStores(config, logger, lifecycle, endpoints);
    const { admin, meta, metaUrl, secrets } = stores;
    config = stores.config;
    await waitForStores(config, logger, admin, meta);
    logger.info({ clickhouse: admin.options.url, meta: redactUrl(metaUrl) }, 'stores ready');
    const migrations = await migrateAll(config, logger, admin, meta);
    logger.info({ clickhouse: migrations.clickhouse.applied.length, postgres: migrations.postgres.applied.length }, 'migrations applied');
    const bootstrap = !config.META_DATABASE_URL ? await bootstrapProject(config, meta) : undefined;
    const clickhouse = new ClickHouse({ ...admin.options, database: config.CLICKHOUSE_DATABASE, application: 'tidemark' });
    lifecycle.onStop('clickhouse-client', () => clickhouse.close());
    const kv = createKeyValueStore(config.REDIS_URL);
    lifecycle.onStop('kv', () => kv.close());
    const metrics = createMetricsRegistry();
    // /health, /ready and /metrics of the whole process, for roles without an HTTP port of their own.
    const ops = await startOpsServer({
      host: config.TIDEMARK_HOST,
      port: config.OPS_PORT,
      metrics,
      logger: logger.child({ component: 'ops' }),
      ready: storeReadyChecks({ clickhouse, meta, kv, ...(config.KAFKA_BROKERS ? { kafkaBrokers: config.KAFKA_BROKERS } : {}) }),
      stopping: () => lifecycle.isStopping,
    });
    lifecycle.onStop('ops-server', () => ops.close());
    endpoints.push({ name: 'Ops (/health, /ready, /metrics)', url: ops.url });
    const names = opts.roles === 'all' ? (Object.keys(ROLES) as RoleName[]) : opts.roles;
    for (const name of names) {
      const role: Role = ROLES[name];
      const roleLogger = logger.child({ component: role.name });
      const mark = lifecycle.mark();
      endpoints.push(...(await role.start({ config, logger: roleLogger, lifecycle, clickhouse, meta, kv, metrics })));
      // The monitor sends through this process's collector: it stops (last samples delivered)
      // before the collector begins refusing requests at the signal.
      if (SENDS_TO_OWN_COLLECTOR.has(name)) lifecycle.stopBeforeDrain(mark);
    }
    let demo: DemoHandle | undefined;
    const collector = endpoints.find((e) => e.name.startsWith('Collector'));
    if (config.TIDEMARK_DEMO && collector) {
      // After the roles: the generator sends through this process's collector. Registered last, stopped first.
      demo = await startDemo({ config, logger: logger.child({ component: 'demo' }), meta, clickhouse, collectorUrl: collector.url });
      const d = demo;
      // Like the monitor: its generator's last batches go to the collector before it refuses them.
      const mark = lifecycle.mark();
      lifecycle.onStop('demo', () => d.stop());
      lifecycle.stopBeforeDrain(mark);
    } else if (config.TIDEMARK_DEMO && names.length > 0) {
      logger.warn('TIDEMARK_DEMO: no demo traffic from this process (it runs with the collector role); the ETL demo source runs with the etl role');
    }
    return {
      endpoints,
      migrations,
      ...(bootstrap ? { bootstrap } : {}),
      ...(demo ? { demo } : {}),
      embedded: { clickhouse: !config.CLICKHOUSE_URL, postgres: !config.META_DATABASE_URL },
      secrets,
      config,
      clickhouse,
      meta,
      lifecycle,
    };
  } catch (err) {
    // Whatever started before the failure is stopped, so the port and data directory are free again.
    await lifecycle.stop('start failed');
    throw err;
  }
}
