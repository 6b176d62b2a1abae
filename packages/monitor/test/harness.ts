/**
 * The real stack the monitor's integration tests send through: chDB's
 * ClickHouse server in a child process (own data directory and database),
 * the local Postgres (own schema: API keys), and the collector's HTTP app
 * (packages/collector) on a loopback port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiKeyVerifier, createMetricsRegistry, MemoryStore } from '@tidemark/core';
import { ClickHouseSink, createCollectorApp } from '@tidemark/collector';
import { TidemarkClient } from '@tidemark/sdk';
import { logger, startTestStores, type TestStores } from '@tidemark/test-support';

export { closedPort, kafkaBrokers, logger, postgresUrl, redisUrl, sleep, unique } from '@tidemark/test-support';

export interface Stack extends TestStores {
  ingestKey: string;
  collectorUrl: string;
  /** An SDK client sending to the collector with the project's ingest key. */
  client(opts?: Partial<ConstructorParameters<typeof TidemarkClient>[0]>): TidemarkClient;
}

export async function startStack(): Promise<Stack> {
  const stores = await startTestStores('mon', { metaPoolSize: 4 });
  const sink = new ClickHouseSink(stores.ch, logger, { maxRows: 50_000, maxDelayMs: 50, maxPendingRows: 1_000_000, maxConcurrentFlushes: 2 });
  const app = createCollectorApp({
    sink,
    keys: new ApiKeyVerifier(stores.meta),
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
    },
  });
  const http1 = http.createServer(app.callback());
  await new Promise<void>((r) => http1.listen(0, '127.0.0.1', () => r()));
  const collectorUrl = `http://127.0.0.1:${(http1.address() as AddressInfo).port}`;
  const clients: TidemarkClient[] = [];
  const ingestKey = stores.keys.ingest;
  return {
    ...stores,
    ingestKey,
    collectorUrl,
    client(opts = {}) {
      const c = new TidemarkClient({ endpoint: collectorUrl, apiKey: ingestKey, flushIntervalMs: 100, metricsIntervalMs: 0, flushOnExit: false, ...opts });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.shutdown(1_000)));
      await new Promise<void>((r) => {
        http1.close(() => r());
        http1.closeAllConnections();
      });
      await sink.close();
      await stores.close();
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
