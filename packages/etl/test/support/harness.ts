/**
 * Integration-test harness: the real local Postgres (a schema of its own per
 * test file for the source, another for the ETL's metadata) and an embedded
 * ClickHouse server in a child process (chDB binds one data dir per
 * process, so never in the jest process), with a database of its own.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { z } from 'zod';
import { ClickHouse, createLogger, migrateClickHouse, migratePostgres, CLICKHOUSE_MIGRATIONS_DIR, type Logger } from '@tidemark/core';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '@tidemark/embedded-clickhouse';
import type { SourceConfig, TableConfig } from '../../src/config/schema';
import { parseEtlConfig } from '../../src/config/load';
import type { SyncDeps, SyncHooks } from '../../src/sync/deps';
import { createSourcePool } from '../../src/source/session';
import { ETL_POSTGRES_MIGRATIONS_DIR } from '../../src/migrations';
import type { ProgressEvent } from '../../src/progress/progress';

export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}

export const silent: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Only this package's files of the ClickHouse migrations folder (others' files may be mid-edit in a shared checkout). */
export function etlMigrations(dir: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-etl-mig-'));
  for (const f of fs.readdirSync(dir)) if (/^02\d\d_.*\.sql$/.test(f)) fs.copyFileSync(path.join(dir, f), path.join(out, f));
  return out;
}

export interface Harness {
  server: SpawnedClickHouse;
  ch: ClickHouse;
  admin: Pool;
  meta: Pool;
  /** Writer connections (the "application"). */
  source: Pool;
  /** The ETL's own connections to the source (application_name tidemark-etl:src). */
  etlSource: Pool;
  sourceSchema: string;
  metaSchema: string;
  database: string;
  progress: ProgressEvent[];
  close(): Promise<void>;
  /** SQL on the source schema (search_path set). */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** A JSONEachRow query on ClickHouse. */
  chRows<T = Record<string, unknown>>(query: string): Promise<T[]>;
  deps(source: SourceConfig, hooks?: SyncHooks): SyncDeps;
}

export async function startHarness(name: string): Promise<Harness> {
  const admin = new Pool({ connectionString: postgresUrl, max: 2 });
  const sourceSchema = uniqueName(`etl_${name}_src`);
  const metaSchema = uniqueName(`etl_${name}_meta`);
  try {
    await admin.query(`CREATE SCHEMA ${sourceSchema}`);
    await admin.query(`CREATE SCHEMA ${metaSchema}`);
  } catch (err) {
    throw new Error(`Postgres not reachable at ${postgresUrl} (run: npm run services:up): ${(err as Error).message}`);
  }
  const meta = new Pool({ connectionString: postgresUrl, options: `-c search_path=${metaSchema}`, max: 6 });
  // This role's folder only: the ETL's tables reference no core table, and other packages' files stay out of its tests.
  await migratePostgres({ pool: meta, dirs: [ETL_POSTGRES_MIGRATIONS_DIR], logger: silent });
  const source = new Pool({ connectionString: postgresUrl, options: `-c search_path=${sourceSchema}`, max: 8, application_name: 'etl-test-writer' });
  const etlSource = createSourcePool({ url: postgresUrl, source: 'src', max: 8, logger: silent });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tm-etl-${name}-`));
  const server = await spawnEmbeddedClickHouse({ dataDir });
  const database = uniqueName(`etl_${name}`).toLowerCase();
  const chAdmin = new ClickHouse({ url: server.url, ...server.auth(), database: 'default' });
  const chMigrations = etlMigrations(CLICKHOUSE_MIGRATIONS_DIR);
  await migrateClickHouse({ admin: chAdmin, database, dir: chMigrations, logger: silent });
  fs.rmSync(chMigrations, { recursive: true, force: true });
  await chAdmin.close();
  const ch = new ClickHouse({ url: server.url, ...server.auth(), database });
  const progress: ProgressEvent[] = [];
  const h: Harness = {
    server,
    ch,
    admin,
    meta,
    source,
    etlSource,
    sourceSchema,
    metaSchema,
    database,
    progress,
    async close() {
      await ch.close();
      await meta.end();
      await source.end();
      await etlSource.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${sourceSchema} CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS ${metaSchema} CASCADE`);
      await admin.end();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async sql(text, params = []) {
      return (await source.query(text, params)).rows as Record<string, unknown>[];
    },
    async chRows<T>(query: string) {
      const rs = await ch.client.query({ query, format: 'JSONEachRow' });
      return (await rs.json()) as T[];
    },
    deps(src, hooks) {
      return {
        ch,
        meta,
        logger: silent,
        source: src,
        sourcePool: etlSource,
        ddl: {},
        onProgress: (e) => progress.push(e),
        ...(hooks ? { hooks } : {}),
      };
    },
  };
  return h;
}

/** A one-source config over the harness schema; `tables` are YAML-like table entries. */
export function sourceConfig(h: Harness, tables: Record<string, unknown>[], extra: Record<string, unknown> = {}): SourceConfig {
  const cfg = parseEtlConfig({ sources: [{ name: 'src', url: postgresUrl, schema: h.sourceSchema, ...extra, tables }] });
  return cfg.sources[0] as SourceConfig;
}

export function tableOf(src: SourceConfig, name: string): TableConfig {
  const t = src.tables.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

/**
 * The count-and-sum reconciliation every trap test ends with: the source
 * table and the reader view must agree exactly on row count and on the sum
 * (and min/max) of a numeric column and of the primary key.
 */
export async function countAndSum(
  h: Harness,
  table: string,
  view: string,
  key: string,
  amount: string,
): Promise<{ source: Record<string, string>; target: Record<string, string> }> {
  const [src] = await h.sql(`SELECT count(*)::text AS n, coalesce(sum(${key}), 0)::text AS keys, coalesce(sum(${amount}), 0)::text AS amount FROM ${table}`);
  const rows = await h.chRows<Record<string, string>>(
    `SELECT toString(count()) AS n, toString(sum(${key})) AS keys, toString(sum(${amount})) AS amount FROM ${h.database}.${view}`,
  );
  const norm = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);
  const s = src as Record<string, string>;
  const t = rows[0] as Record<string, string>;
  return {
    source: { n: s.n as string, keys: s.keys as string, amount: norm(s.amount as string) },
    target: { n: t.n as string, keys: t.keys as string, amount: norm(t.amount as string) },
  };
}

export const countRow = z.object({ n: z.coerce.number() });

/**
 * Event-loop delay while `work` runs, next to the machine's own scheduling
 * delay measured just before in the same process (idle 2 s): on a loaded
 * 2-core CI machine a waiting process alone sees tens of ms, so bounds are
 * on what the work adds to that baseline. Milliseconds.
 */
export async function loopDelayDuring<T>(work: () => Promise<T>): Promise<{ result: T; p99: number; max: number; baseline: number }> {
  const idle = monitorEventLoopDelay({ resolution: 10 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 2_000));
  idle.disable();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    const result = await work();
    return { result, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6, baseline: idle.percentile(99) / 1e6 };
  } finally {
    loop.disable();
  }
}
