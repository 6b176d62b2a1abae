/**
 * The real stack the SDK's integration tests send to: chDB's ClickHouse
 * server in a child process (own data directory and database), the local
 * Postgres (own schema) for API keys, and the collector's HTTP app from
 * packages/collector on a fixed loopback port that can be stopped and
 * started again (the "collector is down" tests really close the port).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiKeyVerifier, createMetricsRegistry, MemoryStore } from '@tidemark/core';
import { ClickHouseSink, createCollectorApp, type CollectorAppOptions, type Sink } from '@tidemark/collector';
import { logger, sleep, startTestStores, type TestStores } from '@tidemark/test-support';

export { closedPort, kafkaBrokers, logger, postgresUrl, sleep, unique } from '@tidemark/test-support';

export interface Stack extends TestStores {
  /** Polls `sql` (one row, column n) until it reaches `expected` or `timeoutMs` passes; returns the last value. */
  waitFor(sql: string, expected: number, timeoutMs?: number, params?: Record<string, unknown>): Promise<number>;
}

export async function startStack(): Promise<Stack> {
  const stores = await startTestStores('sdk', { metaPoolSize: 4 });
  return {
    ...stores,
    async waitFor(sql, expected, timeoutMs = 20_000, params = {}) {
      const until = Date.now() + timeoutMs;
      let last = NaN;
      for (;;) {
        const r = await stores.rows<{ n: string | number }>(sql, params);
        last = Number(r[0]?.n ?? 0);
        if (last >= expected || Date.now() > until) return last;
        await sleep(100);
      }
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
