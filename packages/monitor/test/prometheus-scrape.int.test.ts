/**
 * One registry per process, scraped once. A Tidemark process serves its one
 * prom-client registry on the ops port and, for the collector and API roles,
 * on their own ports too (the same registry object). Parsed with a
 * Prometheus text-format parser: scraping every port (what docs/monitoring.md
 * showed) counts each series once per port; the documented scrape config (the
 * ops port of each process) counts it once.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createCollectorApp, ClickHouseSink } from '@tidemark/collector';
import { ApiKeyVerifier, counter, createMetricsRegistry, MemoryStore, startOpsServer } from '@tidemark/core';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { logger, startStack, type Stack } from './harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

async function scrape(url: string): Promise<ReturnType<typeof parsePrometheusTextFormat>> {
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  return parsePrometheusTextFormat(text);
}

/** Sum of a counter family's samples over scraped pages, as sum(metric) over all targets would be in Prometheus. */
function total(pages: ReturnType<typeof parsePrometheusTextFormat>[], name: string): number {
  return pages
    .flatMap((p) => p.filter((f) => f.name === name))
    .flatMap((f) => f.metrics)
    .reduce((n, m) => n + Number((m as { value: string }).value), 0);
}

test('the ops port serves the whole registry; scraping the collector port too counts every series twice; the documented targets count it once', async () => {
  // One process as `tidemark start` builds it: one registry, given to the ops server and to the collector role.
  const registry = createMetricsRegistry();
  counter(registry, 'tidemark_test_requests_total', 'requests', ['route']).inc({ route: '/v1/events' }, 7);
  const ops = await startOpsServer({ host: '127.0.0.1', port: 0, metrics: registry, logger, ready: {} });
  const app = createCollectorApp({
    sink: new ClickHouseSink(stack.ch, logger, { maxRows: 1000, maxDelayMs: 50, maxPendingRows: 10_000, maxConcurrentFlushes: 1 }),
    keys: new ApiKeyVerifier(stack.meta),
    kv: new MemoryStore(),
    logger,
    metrics: registry,
    limits: { maxBodyBytes: 1024 * 1024, maxItemBytes: 256 * 1024, maxItems: 1000, ratePerSecond: 0, futureToleranceMs: 300_000, retentionMs: 86_400_000 },
  });
  const collector = http.createServer(app.callback());
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
  try {
    const opsPage = await scrape(`${ops.url}/metrics`);
    const collectorPage = await scrape(`http://127.0.0.1:${(collector.address() as AddressInfo).port}/metrics`);
    // The same registry: the same families on both ports (the collector's own metrics are on the ops port too).
    expect(opsPage.map((f) => f.name).sort()).toEqual(collectorPage.map((f) => f.name).sort());
    expect(opsPage.some((f) => f.name === 'tidemark_process_cpu_user_seconds_total')).toBe(true);
    expect(total([opsPage], 'tidemark_test_requests_total')).toBe(7);
    // Listing both ports as targets (as the docs did) doubles every sum.
    expect(total([opsPage, collectorPage], 'tidemark_test_requests_total')).toBe(14);
  } finally {
    await new Promise<void>((r) => collector.close(() => r()));
    await ops.close();
  }

  // docs/monitoring.md's scrape config lists only ops ports (OPS_PORT, 9464), one per process.
  const doc = fs.readFileSync(path.join(__dirname, '../../../docs/monitoring.md'), 'utf8');
  const block = doc.slice(doc.indexOf('scrape_configs:'), doc.indexOf('```', doc.indexOf('scrape_configs:')));
  const targets = [...block.matchAll(/'([^']+:\d+)'/g)].map((m) => m[1]!);
  expect(targets.length).toBeGreaterThan(0);
  for (const t of targets) expect(t).toMatch(/:9464$/);
  expect(new Set(targets.map((t) => t.split(':')[0])).size).toBe(targets.length);
});
