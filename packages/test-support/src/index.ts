/**
 * Real stores for one integration test file, shared by the test harnesses of
 * the collector, the monitor and the SDK: the embedded ClickHouse server in
 * a child process with a database of its own, a schema of its own in the
 * real Postgres (both migrated; Postgres with core's migrations and the role
 * folders the caller names), and a project with one key per role.
 * Names are unique per call, so test files never see each other's data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import {
  ClickHouse,
  CLICKHOUSE_MIGRATIONS_DIR,
  createApiKey,
  createLogger,
  ensureProject,
  migrateClickHouse,
  migratePostgres,
  POSTGRES_MIGRATIONS_DIR,
  type Logger,
} from '@tidemark/core';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '@tidemark/embedded-clickhouse';

export const logger: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';

export function unique(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export { closedPort, freePort, freePorts, privateKafkaPorts } from './ports';

export interface TestStores {
  /** The ClickHouse child: `server.auth()` / `server.auth(true)` are the read-write / read-only credentials, `server.configEnv()` config overrides for a role. */
  server: SpawnedClickHouse;
  dataDir: string;
  database: string;
  /** Client of the test's own database. */
  ch: ClickHouse;
  /** Pool whose search_path is the test's own schema. */
  meta: Pool;
  /** Pool outside that schema (to drop it at the end). */
  admin: Pool;
  schema: string;
  project: string;
  keys: { ingest: string; read: string; admin: string };
  rows<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /** Stops the ClickHouse server (data kept) and starts it again on the same port. */
  stopClickHouse(): Promise<void>;
  startClickHouse(): Promise<void>;
  close(): Promise<void>;
}

export interface TestStoresOptions {
  requestTimeoutMs?: number;
  metaPoolSize?: number;
  /**
   * Role migration folders applied with core's (e.g. alerting's, etl's and
   * api's for the API's tests). This package depends on no role (the
   * collector's tests use it and the API depends on the collector, so it
   * would be a cycle), hence a suite that needs role tables names the folders.
   */
  postgresMigrationDirs?: readonly string[];
}

/** `name` goes into the data directory, database and schema names (e.g. "col", "mon", "sdk"). */
export async function startTestStores(name: string, opts: TestStoresOptions = {}): Promise<TestStores> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tm-${name}-`));
  const chDir = path.join(dataDir, 'clickhouse');
  let server = await spawnEmbeddedClickHouse({ dataDir: chDir });
  const port = Number(new URL(server.url).port);
  const database = unique(`tm_${name}`);
  // The child generated its passwords into its data directory; every client here uses them.
  const adminCh = new ClickHouse({ url: server.url, ...server.auth(), database: 'default' });
  await migrateClickHouse({ admin: adminCh, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  await adminCh.close();
  const ch = new ClickHouse({ url: server.url, ...server.auth(), database, requestTimeoutMs: opts.requestTimeoutMs ?? 20_000 });

  const schema = unique(`tm_${name}`);
  const admin = new Pool({ connectionString: postgresUrl, max: 2 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    throw new Error(`Postgres not reachable at ${postgresUrl} (run: npm run services:up): ${(err as Error).message}`);
  }
  const meta = new Pool({ connectionString: postgresUrl, options: `-c search_path=${schema}`, max: opts.metaPoolSize ?? 5 });
  await migratePostgres({ pool: meta, dirs: [POSTGRES_MIGRATIONS_DIR, ...(opts.postgresMigrationDirs ?? [])], logger });
  const project = unique('p').toLowerCase().slice(0, 60);
  await ensureProject(meta, project);
  const keys = {
    ingest: (await createApiKey(meta, { projectId: project, role: 'ingest' })).key,
    read: (await createApiKey(meta, { projectId: project, role: 'read' })).key,
    admin: (await createApiKey(meta, { projectId: project, role: 'admin' })).key,
  };
  const stores: TestStores = {
    server,
    dataDir,
    database,
    ch,
    meta,
    admin,
    schema,
    project,
    keys,
    async rows<T>(sql: string, params: Record<string, unknown> = {}) {
      const rs = await ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return rs.json<T>();
    },
    async stopClickHouse() {
      await server.stop();
    },
    async startClickHouse() {
      server = await spawnEmbeddedClickHouse({ dataDir: chDir, port });
      stores.server = server;
    },
    async close() {
      await ch.close();
      await meta.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stores;
}
