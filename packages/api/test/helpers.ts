/**
 * Shared by the API's integration tests: the API app on a free port over the
 * real stack (chDB over HTTP, Postgres), a JSON client, event ingestion
 * through the collector's own normalisation and ClickHouse sink.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClickHouse, createApiKey, createMetricsRegistry, ensureProject, MemoryStore, parseConfig, type Logger } from '@tidemark/core';
import { AlertEngine, AlertingService, alertingRoleConfigSchema, type AlertingRoleConfig } from '@tidemark/alerting';
import { ClickHouseSink, normalizeBatch } from '@tidemark/collector';
import { createApiApp, type ApiDeps } from '../src';
import { logger, startStack, type Stack } from '../../collector/test/harness';
import { API_TEST_POSTGRES_MIGRATION_DIRS } from './migrations';

export { logger };

export interface Reply {
  status: number;
  json: any;
  text: string;
  headers: http.IncomingHttpHeaders;
}

export interface ApiEnv {
  stack: Stack;
  url: string;
  /** A second project with its own keys, for tenant isolation. */
  other: { project: string; read: string; admin: string; ingest: string };
  deps: ApiDeps;
  /** Configuration of this stack (ClickHouse URL and database, read-only user), for the alerting service and engine. */
  config(overrides?: Record<string, unknown>): AlertingRoleConfig;
  call(method: string, path: string, key: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** GET with Cache-Control: no-cache (fresh numbers after new data). */
  get(path: string, key?: string): Promise<Reply>;
  ingest(project: string, items: unknown[]): Promise<void>;
  close(): Promise<void>;
}

export async function startApi(overrides: Partial<ApiDeps> = {}): Promise<ApiEnv> {
  const stack = await startStack({ postgresMigrationDirs: API_TEST_POSTGRES_MIGRATION_DIRS });
  const readonly = new ClickHouse({ url: stack.server.url, ...stack.server.auth(true), database: stack.database });
  const otherProject = `${stack.project}-b`;
  await ensureProject(stack.meta, otherProject);
  const other = {
    project: otherProject,
    read: (await createApiKey(stack.meta, { projectId: otherProject, role: 'read' })).key,
    admin: (await createApiKey(stack.meta, { projectId: otherProject, role: 'admin' })).key,
    ingest: (await createApiKey(stack.meta, { projectId: otherProject, role: 'ingest' })).key,
  };
  const config = (extra: Record<string, unknown> = {}): AlertingRoleConfig => alertingConfig(stack, extra);
  const alerting = new AlertingService({ meta: stack.meta, readonly, config: config(), logger });
  const deps: ApiDeps = {
    clickhouse: stack.ch,
    readonlyClickhouse: readonly,
    database: stack.database,
    meta: stack.meta,
    kv: new MemoryStore(),
    logger,
    metrics: createMetricsRegistry(),
    alerting,
    ...overrides,
  };
  const server = http.createServer(createApiApp(deps).callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call = (method: string, path: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${url}${path}`,
        { method, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json, text, headers: res.headers });
          });
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  return {
    stack,
    url,
    other,
    deps,
    config,
    call,
    get: (path, key = stack.keys.read) => call('GET', path, key, undefined, { 'cache-control': 'no-cache' }),
    async ingest(project, items) {
      const sink = new ClickHouseSink(stack.ch, logger, { maxRows: 100_000, maxDelayMs: 5, maxPendingRows: 1_000_000, maxConcurrentFlushes: 1 });
      const b = normalizeBatch(
        'events',
        { items, errors: [] },
        { projectId: project, receivedAt: Date.now(), futureToleranceMs: 300_000, retentionMs: 90 * 86_400_000 },
      );
      if (b.rejected.length) throw new Error(JSON.stringify(b.rejected[0]));
      await sink.write('events', b.rows, b.lines, b.warnings);
      await sink.close();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await alerting.close();
      await readonly.close();
      await stack.close();
    },
  };
}

/**
 * The platform configuration of a test stack, as the alerting service and
 * engine read it: this stack's ClickHouse and database, the read-only user,
 * evaluations not spread (a new rule is due at once).
 */
export function alertingConfig(stack: Stack, overrides: Record<string, unknown> = {}): AlertingRoleConfig {
  return parseConfig(
    alertingRoleConfigSchema,
    {},
    {
      CLICKHOUSE_URL: stack.server.url,
      CLICKHOUSE_DATABASE: stack.database,
      CLICKHOUSE_READONLY_USER: stack.server.credentials.readonlyUser,
      CLICKHOUSE_READONLY_PASSWORD: stack.server.credentials.readonlyPassword,
      ALERTING_QUERY_TIMEOUT_MS: 10_000,
      ALERTING_LEASE_MS: 60_000,
      ALERTING_SEND_TIMEOUT_MS: 3_000,
      ALERTING_SPREAD_EVALUATIONS: false,
      ...overrides,
    },
  );
}

/**
 * Runs the real alert engine (system clock, as the alerting role does) until
 * it has evaluated `expected` rules: a new rule is due at its first slot, so
 * rules made for tests use `interval: '1s'` and are due within a second.
 */
export async function evaluateRules(
  deps: { config: AlertingRoleConfig; meta: ApiDeps['meta']; readonly: ClickHouse; logger: Logger },
  expected = 1,
): Promise<number> {
  const engine = new AlertEngine(deps);
  let evaluated = 0;
  try {
    for (let i = 0; i < 50 && evaluated < expected; i++) {
      evaluated += (await engine.runOnce()).evaluated;
      if (evaluated < expected) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await engine.stop();
  }
  return evaluated;
}

/** Calendar date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

export function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Counts of values, sorted as the API sorts them: count descending, then value. */
export function countBy<T>(items: T[], key: (t: T) => string): { value: string; count: number }[] {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return [...m.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

export const round2 = (v: number): number => Math.round(v * 100) / 100;
export const pct = (part: number, whole: number): number | null => (whole > 0 ? round2((part / whole) * 100) : null);

/** A zone where it is now between 02:00 and 22:00, so "today so far" has room on both sides. */
export function comfortableZone(now = Date.now()): string {
  for (const tz of ['UTC', 'Asia/Tokyo', 'America/New_York', 'Asia/Kolkata']) {
    const h = Number(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(new Date(now)));
    if (h >= 2 && h <= 21) return tz;
  }
  return 'UTC';
}

/** The instant of the last local midnight in the zone. */
export function localMidnight(now: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(
    new Date(now),
  );
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return now - ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 - (now % 1000);
}
