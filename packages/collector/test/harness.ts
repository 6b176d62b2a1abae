/**
 * Real services for the collector's integration tests: chDB over HTTP in a
 * child process (own data directory), the local Postgres (own schema) for
 * API keys and batch intents, and the collector's HTTP app on a free port.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
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
  type KeyValueStore,
  type Logger,
} from '@tidemark/core';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '@tidemark/embedded-clickhouse';
import { createCollectorApp, type CollectorAppOptions, type Sink } from '../src';

export const logger: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';

export function unique(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export interface Stack {
  server: SpawnedClickHouse;
  dataDir: string;
  database: string;
  ch: ClickHouse;
  meta: Pool;
  schema: string;
  admin: Pool;
  project: string;
  keys: { ingest: string; read: string; admin: string };
  close(): Promise<void>;
  /** Runs a query on the stack's database and returns JSON rows. */
  rows<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /** Restarts ClickHouse on the same data directory (for availability tests). */
  stopClickHouse(): Promise<void>;
  startClickHouse(): Promise<void>;
}

export async function startStack(opts: { port?: number } = {}): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-collector-'));
  let server = await spawnEmbeddedClickHouse({ dataDir, ...(opts.port !== undefined ? { port: opts.port } : {}) });
  const port = Number(new URL(server.url).port);
  const database = unique('tm_col');
  const adminCh = new ClickHouse({ url: server.url, username: 'default', password: '', database: 'default' });
  await migrateClickHouse({ admin: adminCh, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  await adminCh.close();
  const ch = new ClickHouse({ url: server.url, username: 'default', password: '', database, requestTimeoutMs: 10_000 });

  const schema = unique('tm_col');
  const admin = new Pool({ connectionString: postgresUrl, max: 2 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    throw new Error(`Postgres not reachable at ${postgresUrl} (run: npm run services:up): ${(err as Error).message}`);
  }
  const meta = new Pool({ connectionString: postgresUrl, options: `-c search_path=${schema}`, max: 5 });
  await migratePostgres({ pool: meta, dir: POSTGRES_MIGRATIONS_DIR, logger });
  const project = unique('p').toLowerCase();
  await ensureProject(meta, project);
  const keys = {
    ingest: (await createApiKey(meta, { projectId: project, role: 'ingest' })).key,
    read: (await createApiKey(meta, { projectId: project, role: 'read' })).key,
    admin: (await createApiKey(meta, { projectId: project, role: 'admin' })).key,
  };
  const stack: Stack = {
    server,
    dataDir,
    database,
    ch,
    meta,
    schema,
    admin,
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
      server = await spawnEmbeddedClickHouse({ dataDir, port });
      stack.server = server;
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
  return stack;
}

export interface RunningCollector {
  url: string;
  close(): Promise<void>;
}

export async function startCollector(
  stack: Stack,
  sink: Sink,
  overrides: Partial<CollectorAppOptions['limits']> = {},
  kv: KeyValueStore = new MemoryStore(),
  resends?: CollectorAppOptions['resends'],
): Promise<RunningCollector> {
  const app = createCollectorApp({
    ...(resends ? { resends } : {}),
    sink,
    keys: new ApiKeyVerifier(stack.meta),
    kv,
    logger,
    metrics: createMetricsRegistry(),
    limits: {
      maxBodyBytes: 1024 * 1024,
      maxItemBytes: 64 * 1024,
      maxItems: 5_000,
      ratePerSecond: 0,
      futureToleranceMs: 300_000,
      retentionMs: 90 * 86_400_000,
      ...overrides,
    },
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/** Sends raw bytes (the point of many tests), gzip on request. */
export function post(url: string, body: string | Buffer, headers: Record<string, string> = {}, gzip = false): Promise<Reply> {
  const data = gzip ? zlib.gzipSync(body) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = { raw: text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
