import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClickHouse } from '../clickhouse/client';
import type { KeyValueStore } from '../kv';

/** One dependency check of /ready: resolves when the dependency answers; a rejection or `false` means not ready. */
export type ReadyCheck = () => Promise<unknown>;

export interface OpsServerOptions {
  host: string;
  /** 0 = any free port (tests). */
  port: number;
  /** The process's registry, served at /metrics in the Prometheus text format. */
  metrics: Registry;
  /** Named dependency checks run by /ready (all at once, each bounded by checkTimeoutMs); none: ready when live. */
  ready?: Record<string, ReadyCheck>;
  logger: Logger;
  /** Longest one ready check may take before it counts as failed (ms, default 2000): Kubernetes probes time out too. */
  checkTimeoutMs?: number;
  /**
   * True once the process began stopping (Lifecycle.isStopping): /ready then
   * answers 503 at once, so a load balancer stops sending before the HTTP
   * servers refuse; /health stays 200 (the process is alive, draining) and
   * /metrics keeps being served until the ops server itself closes, last.
   */
  stopping?: () => boolean;
}

export interface OpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

async function runCheck(check: ReadyCheck, timeoutMs: number): Promise<CheckResult> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (result === false) return { ok: false, ms: Date.now() - start, error: 'check returned false' };
    return { ok: true, ms: Date.now() - start };
  } catch (err) {
    return { ok: false, ms: Date.now() - start, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, head: boolean, contentType = 'application/json; charset=utf-8'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(head ? undefined : text);
}

/**
 * The ops endpoints of a process whose roles have no HTTP port of their own
 * (consumer, alerting, etl, monitor), so Prometheus, Grafana and Kubernetes
 * probes work the same for every role:
 *
 * - GET /health: liveness. 200 while the event loop turns; it checks no
 *   dependency on purpose (a restart does not fix a database outage).
 * - GET /ready: readiness. 503 `stopping` once the process began stopping;
 *   otherwise 200 when every check answered in time, else 503;
 *   the body names each check with its time and error.
 * - GET /metrics: the process's Prometheus registry.
 *
 * Plain node:http, so it works before and without any role's web framework.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const checkTimeoutMs = opts.checkTimeoutMs ?? 2_000;
  const startedAt = Date.now();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} not allowed; use GET`, retriable: false, context: {} } }, false);
      return;
    }
    if (path === '/health') {
      send(res, 200, { status: 'ok', uptime_s: Math.round((Date.now() - startedAt) / 1000) }, head);
      return;
    }
    if (path === '/ready') {
      if (opts.stopping?.()) {
        send(res, 503, { status: 'stopping', checks: {} }, head);
        return;
      }
      const checks = Object.entries(opts.ready ?? {});
      void Promise.all(checks.map(async ([name, check]) => [name, await runCheck(check, checkTimeoutMs)] as const)).then((results) => {
        const ready = results.every(([, r]) => r.ok);
        if (!ready) opts.logger.warn({ checks: Object.fromEntries(results.filter(([, r]) => !r.ok)) }, 'not ready');
        send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) }, head);
      });
      return;
    }
    if (path === '/metrics') {
      opts.metrics.metrics().then(
        (text) => send(res, 200, text, head, opts.metrics.contentType),
        (err: unknown) => {
          opts.logger.error({ err }, 'collecting metrics failed');
          send(res, 500, { error: { code: 'INTERNAL', message: 'collecting metrics failed', retriable: true, context: {} } }, head);
        },
      );
      return;
    }
    send(
      res,
      404,
      {
        error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}; ops endpoints are /health, /ready and /metrics`, retriable: false, context: {} },
      },
      head,
    );
  });
  // Probes come every few seconds on fresh connections; idle sockets need not linger.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  opts.logger.info({ url }, 'ops endpoints listening (/health, /ready, /metrics)');
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A TCP connect to any of the brokers: Kafka accepts connections (a full metadata round trip is the consumer's business). */
function anyBrokerAccepts(brokers: string, timeoutMs: number): Promise<void> {
  const list = brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return new Promise((resolve, reject) => {
    let failed = 0;
    const errors: string[] = [];
    for (const b of list) {
      const i = b.lastIndexOf(':');
      const socket = net.connect({ host: b.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(b.slice(i + 1)) });
      socket.setTimeout(timeoutMs);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      const fail = (why: string): void => {
        socket.destroy();
        errors.push(`${b}: ${why}`);
        if (++failed === list.length) reject(new Error(`no Kafka broker accepts connections (${errors.join('; ')})`));
      };
      socket.once('timeout', () => fail('timeout'));
      socket.once('error', (err) => fail(err.message));
    }
    if (list.length === 0) reject(new Error('no brokers configured'));
  });
}

/**
 * The /ready checks of the shared stores a role uses: ClickHouse answers a
 * ping, the metadata Postgres a `SELECT 1`, the key-value store (Redis or
 * in-process) a PING, and, when configured, a Kafka broker accepts a
 * connection.
 */
export function storeReadyChecks(stores: {
  clickhouse?: ClickHouse;
  meta?: Pool;
  kv?: KeyValueStore;
  kafkaBrokers?: string;
  timeoutMs?: number;
}): Record<string, ReadyCheck> {
  const checks: Record<string, ReadyCheck> = {};
  const { clickhouse, meta, kv, kafkaBrokers } = stores;
  if (clickhouse) checks.clickhouse = () => clickhouse.ping();
  if (meta) checks.postgres = () => meta.query('SELECT 1');
  if (kv) checks.kv = () => kv.ping();
  if (kafkaBrokers) checks.kafka = () => anyBrokerAccepts(kafkaBrokers, stores.timeoutMs ?? 2_000);
  return checks;
}
