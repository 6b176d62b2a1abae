/**
 * Real services for the collector's integration tests: the shared test
 * stores (@tidemark/test-support: chDB over HTTP in a child process, the
 * local Postgres with a schema of its own for API keys and batch intents)
 * and the collector's HTTP app on a free port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { ApiKeyVerifier, createMetricsRegistry, MemoryStore, type KeyValueStore } from '@tidemark/core';
import { logger, startTestStores, type TestStores } from '@tidemark/test-support';
import { createCollectorApp, type CollectorAppOptions, type Sink } from '../src';

export { kafkaBrokers, logger, postgresUrl, unique } from '@tidemark/test-support';

export type Stack = TestStores;

/** `postgresMigrationDirs`: role migration folders for suites that build on this stack and need role tables (the API's). */
export function startStack(opts: { postgresMigrationDirs?: readonly string[] } = {}): Promise<Stack> {
  return startTestStores('col', { requestTimeoutMs: 10_000, ...opts });
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
  extra: Partial<CollectorAppOptions> = {},
): Promise<RunningCollector> {
  const app = createCollectorApp({
    ...extra,
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
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...headers } },
      (res) => {
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
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
