/**
 * The real stack the monitor's integration tests send through: chDB's
 * ClickHouse server in a child process (own data directory and database),
 * the local Postgres (own schema: API keys), and the collector's HTTP app
 * (packages/collector) on a loopback port.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import {
  ApiKeyVerifier,
  ClickHouse,
  CLICKHOUSE_MIGRATIONS_DIR,
  createApiKey,
  createLogger,
  createMetricsRegistry,
  ensureProject,
  MemoryStore,
  migrateClickHouse,
  migratePostgres,
  POSTGRES_MIGRATIONS_DIR,
  type Logger,
} from '@tidemark/core';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '@tidemark/embedded-clickhouse';
import { ClickHouseSink, createCollectorApp } from '@tidemark/collector';
import { TidemarkClient } from '@tidemark/sdk';

export const logger: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';

export function unique(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Stack {
  server: SpawnedClickHouse;
  dataDir: string;
  database: string;
  ch: ClickHouse;
  meta: Pool;
  schema: string;
  project: string;
  ingestKey: string;
  collectorUrl: string;
  /** An SDK client sending to the collector with the project's ingest key. */
  client(opts?: Partial<ConstructorParameters<typeof TidemarkClient>[0]>): TidemarkClient;
  rows<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-monitor-'));
  const server = await spawnEmbeddedClickHouse({ dataDir: path.join(dataDir, 'clickhouse') });
  const database = unique('tm_mon');
  const adminCh = new ClickHouse({ url: server.url, username: 'default', password: '', database: 'default' });
  await migrateClickHouse({ admin: adminCh, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  await adminCh.close();
  const ch = new ClickHouse({ url: server.url, username: 'default', password: '', database, requestTimeoutMs: 20_000 });
  const schema = unique('tm_mon');
  const admin = new Pool({ connectionString: postgresUrl, max: 1 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    throw new Error(`Postgres not reachable at ${postgresUrl} (run: npm run services:up): ${(err as Error).message}`);
  }
  const meta = new Pool({ connectionString: postgresUrl, options: `-c search_path=${schema}`, max: 4 });
  await migratePostgres({ pool: meta, dir: POSTGRES_MIGRATIONS_DIR, logger });
  const project = unique('p').toLowerCase().slice(0, 60);
  await ensureProject(meta, project);
  const ingestKey = (await createApiKey(meta, { projectId: project, role: 'ingest' })).key;
  const sink = new ClickHouseSink(ch, logger, { maxRows: 50_000, maxDelayMs: 50, maxPendingRows: 1_000_000, maxConcurrentFlushes: 2 });
  const app = createCollectorApp({
    sink,
    keys: new ApiKeyVerifier(meta),
    kv: new MemoryStore(),
    logger,
    metrics: createMetricsRegistry(),
    limits: { maxBodyBytes: 8 * 1024 * 1024, maxItemBytes: 256 * 1024, maxItems: 20_000, ratePerSecond: 0, futureToleranceMs: 300_000, retentionMs: 90 * 86_400_000 },
  });
  const http1 = http.createServer(app.callback());
  await new Promise<void>((r) => http1.listen(0, '127.0.0.1', () => r()));
  const collectorUrl = `http://127.0.0.1:${(http1.address() as AddressInfo).port}`;
  const clients: TidemarkClient[] = [];
  const rows = async <T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> => (await ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json<T>();
  return {
    server,
    dataDir,
    database,
    ch,
    meta,
    schema,
    project,
    ingestKey,
    collectorUrl,
    client(opts = {}) {
      const c = new TidemarkClient({ endpoint: collectorUrl, apiKey: ingestKey, flushIntervalMs: 100, metricsIntervalMs: 0, flushOnExit: false, ...opts });
      clients.push(c);
      return c;
    },
    rows,
    async close() {
      await Promise.all(clients.map((c) => c.shutdown(1_000)));
      await new Promise<void>((r) => {
        http1.close(() => r());
        http1.closeAllConnections();
      });
      await sink.close();
      await ch.close();
      await meta.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Latest value of each series of a metric, keyed by the given label(s) joined with '|'. */
export async function latest(stack: Stack, name: string, by: string[]): Promise<Record<string, number>> {
  const key = by.map((l) => `labels['${l}']`).join(", '|', ");
  const rows = await stack.rows<{ k: string; v: number }>(
    `SELECT concat(${key}) AS k, argMax(value, timestamp) AS v FROM metrics_raw_v1 WHERE name = {name:String} GROUP BY k ORDER BY k`,
    { name },
  );
  return Object.fromEntries(rows.map((r) => [r.k, r.v]));
}
