/**
 * The real stack the SDK's integration tests send to: chDB's ClickHouse
 * server in a child process (own data directory and database), the local
 * Postgres (own schema) for API keys, and the collector's HTTP app from
 * packages/collector on a fixed loopback port that can be stopped and
 * started again (the "collector is down" tests really close the port).
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
import { ClickHouseSink, createCollectorApp, type CollectorAppOptions, type Sink } from '@tidemark/collector';

export const logger: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';

export function unique(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Stack {
  server: SpawnedClickHouse;
  database: string;
  ch: ClickHouse;
  meta: Pool;
  project: string;
  keys: { ingest: string; read: string };
  rows<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /** Polls `sql` (one row, column n) until it reaches `expected` or `timeoutMs` passes; returns the last value. */
  waitFor(sql: string, expected: number, timeoutMs?: number, params?: Record<string, unknown>): Promise<number>;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-sdk-'));
  const server = await spawnEmbeddedClickHouse({ dataDir });
  const database = unique('tm_sdk');
  const adminCh = new ClickHouse({ url: server.url, username: 'default', password: '', database: 'default' });
  await migrateClickHouse({ admin: adminCh, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  await adminCh.close();
  const ch = new ClickHouse({ url: server.url, username: 'default', password: '', database, requestTimeoutMs: 20_000 });
  const schema = unique('tm_sdk');
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
  const keys = {
    ingest: (await createApiKey(meta, { projectId: project, role: 'ingest' })).key,
    read: (await createApiKey(meta, { projectId: project, role: 'read' })).key,
  };
  const rows = async <T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> => {
    const rs = await ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    return rs.json<T>();
  };
  return {
    server,
    database,
    ch,
    meta,
    project,
    keys,
    rows,
    async waitFor(sql, expected, timeoutMs = 20_000, params = {}) {
      const until = Date.now() + timeoutMs;
      let last = NaN;
      for (;;) {
        const r = await rows<{ n: string | number }>(sql, params);
        last = Number(r[0]?.n ?? 0);
        if (last >= expected || Date.now() > until) return last;
        await sleep(100);
      }
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
}

export interface Collector {
  url: string;
  port: number;
  /** Requests answered (any status) since start: lets tests prove there was no retry. */
  requests: number;
  /** Closes the listening socket and every connection: clients get ECONNREFUSED until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function embeddedSink(stack: Stack, opts: Partial<{ maxRows: number; maxDelayMs: number; maxPendingRows: number }> = {}): Sink {
  return new ClickHouseSink(stack.ch, logger, { maxRows: 50_000, maxDelayMs: 50, maxPendingRows: 1_000_000, maxConcurrentFlushes: 2, ...opts });
}

/** The collector's real HTTP app over the stack, on a port that survives stop()/start(). */
export async function startCollector(stack: Stack, opts: { sink?: Sink; limits?: Partial<CollectorAppOptions['limits']> } = {}): Promise<Collector> {
  const sink = opts.sink ?? embeddedSink(stack);
  const app = createCollectorApp({
    sink,
    keys: new ApiKeyVerifier(stack.meta),
    kv: new MemoryStore(),
    logger,
    metrics: createMetricsRegistry(),
    limits: {
      maxBodyBytes: 8 * 1024 * 1024,
      maxItemBytes: 256 * 1024,
      maxItems: 20_000,
      ratePerSecond: 0,
      futureToleranceMs: 300_000,
      retentionMs: 90 * 86_400_000,
      ...opts.limits,
    },
  });
  const handler = app.callback();
  let server: http.Server | undefined;
  let port = 0;
  const collector: Collector = {
    url: '',
    port: 0,
    requests: 0,
    async start() {
      const s = http.createServer((req, res) => {
        res.on('finish', () => collector.requests++);
        void handler(req, res);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
      port = (s.address() as AddressInfo).port;
      collector.port = port;
      collector.url = `http://127.0.0.1:${port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    async close() {
      await collector.stop();
      await sink.close();
    },
  };
  await collector.start();
  return collector;
}

/** Fails the test if anything reaches the process as an uncaught exception or unhandled rejection. */
export function watchProcessErrors(): { errors: unknown[]; dispose(): void } {
  const errors: unknown[] = [];
  const onError = (err: unknown): void => {
    errors.push(err);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    dispose() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
