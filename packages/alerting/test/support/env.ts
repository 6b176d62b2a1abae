/**
 * A real test environment: an embedded ClickHouse (chDB served over HTTP in
 * a child process, migrated with the repository schema) and a Postgres
 * schema of its own on the real Postgres, migrated with the shipped
 * metadata migrations. Nothing is mocked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import {
  ClickHouse,
  CLICKHOUSE_MIGRATIONS_DIR,
  createLogger,
  parseConfig,
  migrateClickHouse,
  migratePostgres,
  POSTGRES_MIGRATIONS_DIR,
  type Logger,
} from '@tidemark/core';
import type { AlertingRoleConfig } from '../../src/settings';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '@tidemark/embedded-clickhouse';
import { readonlyClickHouse } from '../../src/role';
import { ALERTING_POSTGRES_MIGRATIONS_DIR } from '../../src/migrations';
import { alertingRoleConfigSchema } from '../../src';

export const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const READONLY_PASSWORD = 'ro-test-secret';

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestEnv {
  chUrl: string;
  database: string;
  /** Read-write client on the test database (for test data). */
  rw: ClickHouse;
  /** The read-only client rule SQL runs through. */
  ro: ClickHouse;
  schema: string;
  pool: Pool;
  pgOptions: string;
  logger: Logger;
  config(overrides?: Record<string, unknown>): AlertingRoleConfig;
  /** A new pool on this test's schema (e.g. one per engine replica). */
  newPool(max?: number): Pool;
  createProject(id?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestEnv(name: string, opts: { clickhouse?: boolean } = {}): Promise<TestEnv> {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const schema = uniqueName(`tm_al_${name}`).toLowerCase();
  const admin = new Pool({ connectionString: PG_URL, max: 1 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    await admin.end();
    throw new Error(`Postgres not reachable at ${PG_URL} (run: npm run services:up): ${(err as Error).message}`);
  }
  const pgOptions = `-c search_path=${schema}`;
  const pools: Pool[] = [];
  const newPool = (max = 6): Pool => {
    const p = new Pool({ connectionString: PG_URL, options: pgOptions, max });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const pool = newPool(10);
  // Core's tables (projects the rules belong to) and this role's own.
  await migratePostgres({ pool, dirs: [POSTGRES_MIGRATIONS_DIR, ALERTING_POSTGRES_MIGRATIONS_DIR], logger });

  let ch: SpawnedClickHouse | undefined;
  let dataDir: string | undefined;
  let chUrl = 'http://127.0.0.1:1';
  const database = uniqueName('tm_al').toLowerCase();
  let rw: ClickHouse | undefined;
  if (opts.clickhouse !== false) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tm-alerting-${name}-`));
    ch = await spawnEmbeddedClickHouse({ dataDir, env: { CLICKHOUSE_READONLY_PASSWORD: READONLY_PASSWORD, LOG_LEVEL: 'warn' } });
    chUrl = ch.url;
    const chAdmin = new ClickHouse({ url: chUrl, ...ch.auth(), database: 'default' });
    await migrateClickHouse({ admin: chAdmin, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 3650 } });
    await chAdmin.close();
    rw = new ClickHouse({ url: chUrl, ...ch.auth(), database });
  }
  const config = (overrides: Record<string, unknown> = {}): AlertingRoleConfig =>
    parseConfig(
      alertingRoleConfigSchema,
      {},
      {
        CLICKHOUSE_URL: chUrl,
        CLICKHOUSE_DATABASE: database,
        CLICKHOUSE_READONLY_PASSWORD: READONLY_PASSWORD,
        ALERTING_QUERY_TIMEOUT_MS: 10_000,
        ALERTING_LEASE_MS: 60_000,
        ALERTING_SEND_TIMEOUT_MS: 3_000,
        // Timeline tests expect evaluations at multiples of the interval.
        ALERTING_SPREAD_EVALUATIONS: false,
        ...overrides,
      },
    );
  const ro = opts.clickhouse !== false ? readonlyClickHouse(config(), chUrl) : undefined;
  return {
    chUrl,
    database,
    rw: rw as ClickHouse,
    ro: ro as ClickHouse,
    schema,
    pool,
    pgOptions,
    logger,
    config,
    newPool,
    async createProject(id = uniqueName('p').toLowerCase().replace(/_/g, '-').slice(0, 60)) {
      await pool.query('INSERT INTO projects (id, name) VALUES ($1, $1)', [id]);
      return id;
    },
    async stop() {
      await Promise.allSettled(pools.map((p) => p.end()));
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await admin.end();
      await rw?.close();
      await ro?.close();
      await ch?.stop();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until fn returns a truthy value or the time is up. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
