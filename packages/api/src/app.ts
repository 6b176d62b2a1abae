import Router from '@koa/router';
import Koa from 'koa';
import compress from 'koa-compress';
import { z } from 'zod';
import { Stream } from 'node:stream';
import type { Pool } from 'pg';
import {
  ApiKeyVerifier,
  counter,
  decodeUtf8,
  histogram,
  readBody,
  sendError,
  ValidationError,
  type ClickHouse,
  type KeyValueStore,
  type Logger,
  type Registry,
} from '@tidemark/core';
import type { AlertsApi, ProviderCallbacks } from '@tidemark/alerting';
import { DEFAULT_ANALYTICS_OPTIONS, type AnalyticsOptions } from './analytics/options';
import { BROTLI_OPTIONS, COMPRESS_THRESHOLD_BYTES, CompressedCopies, GZIP_OPTIONS } from './http/compressed';
import { handlerOf, openApiDocument, route, type AnyRoute } from './http/route';
import { staticHandler } from './http/static';
import { QueryCache } from './query/cache';
import { aiRoutes } from './routes/ai';
import { alertRoutes } from './routes/alerts';
import { businessRoutes } from './routes/business';
import { dashboardRoutes } from './routes/dashboard';
import { etlRoutes } from './routes/etl';
import { keyRoutes } from './routes/keys';
import { logRoutes } from './routes/logs';
import { monitoringRoutes } from './routes/monitoring';
import { qualityRoutes } from './routes/quality';
import { sqlRoutes } from './routes/sql';
import { timeseriesRoutes } from './routes/timeseries';
import { twilioStatusMiddleware } from './routes/twilio-status';
import { whatsappWebhookMiddleware } from './routes/whatsapp-webhook';
import { usageRoutes } from './routes/usage';
import { SqlConsole } from './sql/console';

export interface ApiDeps {
  clickhouse: ClickHouse;
  /** The read-only ClickHouse user's client (SQL console). */
  readonlyClickhouse: ClickHouse;
  database: string;
  meta: Pool;
  kv: KeyValueStore;
  logger: Logger;
  metrics: Registry;
  /**
   * The alerting service behind /api/analytics-monitoring/alerts/... (it reads and
   * changes alert state in the metadata Postgres; the engine itself runs in the
   * alerting role, possibly in another process). Required, so no app is built without them.
   */
  alerting: AlertsApi & ProviderCallbacks;
  /** Further routes mounted after the built-in ones (the OpenAPI tests mount probes here; the role mounts none). */
  extraRoutes?: AnyRoute[];
  /** The dashboard build (packages/web/dist) served for every path no route answered; null/omitted: none. */
  dashboardDir?: string | null;
  /** AI prices, quota and ROI defaults, quality pass score (API_AI_*, API_ROI_*, API_QUALITY_* config keys); defaults when omitted. */
  analytics?: Partial<AnalyticsOptions>;
  ready?: () => Promise<void>;
  /**
   * Check every success answer against its route's response schema (a 500 naming the
   * mismatch when it differs). Default: on when NODE_ENV is test or development, off
   * otherwise: in production the second parse of every answer (thousands of points in a
   * time series) would cost CPU per request for a contract the tests already check.
   */
  validateResponses?: boolean;
}

export const API_INFO = { title: 'Tidemark query API', version: '1' };

export { COMPRESS_THRESHOLD_BYTES } from './http/compressed';

const MAX_JSON_BODY = 1024 * 1024;

/** Every route of the query API; also the source of /openapi.json. */
export function apiRoutes(deps: ApiDeps): AnyRoute[] {
  const cache = new QueryCache(deps.kv);
  const analytics: AnalyticsOptions = { ...DEFAULT_ANALYTICS_OPTIONS, ...deps.analytics };
  return [
    ...keyRoutes({ meta: deps.meta }),
    ...timeseriesRoutes({ clickhouse: deps.clickhouse, cache, compressed: new CompressedCopies() }),
    ...logRoutes({ clickhouse: deps.clickhouse }),
    ...sqlRoutes({ console: new SqlConsole({ readonly: deps.readonlyClickhouse, database: deps.database, logger: deps.logger }) }),
    ...monitoringRoutes({ clickhouse: deps.clickhouse, kv: deps.kv }),
    ...businessRoutes({ clickhouse: deps.clickhouse, cache, options: analytics }),
    ...dashboardRoutes({ clickhouse: deps.clickhouse, meta: deps.meta, cache }),
    ...aiRoutes({ clickhouse: deps.clickhouse, meta: deps.meta, cache, options: analytics }),
    ...qualityRoutes({ meta: deps.meta, passScore: analytics.qualityPassScore }),
    ...usageRoutes({ clickhouse: deps.clickhouse, cache }),
    ...alertRoutes({ alerting: deps.alerting }),
    ...etlRoutes({ meta: deps.meta, clickhouse: deps.clickhouse, logger: deps.logger }),
    ...opsRoutes(deps),
    ...(deps.extraRoutes ?? []),
  ];
}

/** Liveness and readiness, in the route table so that /openapi.json describes them too. */
function opsRoutes(deps: Pick<ApiDeps, 'ready'>): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/health',
      summary: 'Liveness: the process answers',
      tag: 'ops',
      auth: 'public',
      response: z.object({ status: z.literal('ok') }),
      async handler() {
        return { status: 'ok' };
      },
    }),
    route({
      method: 'get',
      path: '/ready',
      summary: 'Readiness: ClickHouse and the metadata Postgres answer (503 with the error when not)',
      tag: 'ops',
      auth: 'public',
      response: z.object({ status: z.literal('ready') }),
      async handler({ ctx }) {
        try {
          await deps.ready?.();
          return { status: 'ready' };
        } catch (err) {
          ctx.status = 503;
          ctx.body = { status: 'not ready', error: (err as Error).message };
          return undefined;
        }
      },
    }),
  ];
}

/** A body Koa would send as JSON (its respond stringifies what is none of these). */
function isJsonObjectBody(body: unknown): body is object {
  return (
    body !== null &&
    typeof body === 'object' &&
    !Buffer.isBuffer(body) &&
    !(body instanceof Stream) &&
    !(body instanceof Blob) &&
    !(body instanceof ReadableStream) &&
    !(body instanceof Response)
  );
}

/** The Koa app of the query API: one JSON error shape, zod-validated inputs, request metrics, OpenAPI at /openapi.json. */
export function createApiApp(deps: ApiDeps): Koa {
  const app = new Koa();
  const router = new Router();
  const keys = new ApiKeyVerifier(deps.meta);
  const routes = apiRoutes(deps);
  const m = {
    requests: counter(deps.metrics, 'tidemark_http_requests_total', 'HTTP requests', ['role', 'route', 'status']),
    duration: histogram(
      deps.metrics,
      'tidemark_http_request_duration_seconds',
      'HTTP request duration',
      ['role', 'route'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
  };
  app.use(async (ctx, next) => {
    const started = Date.now();
    try {
      await next();
    } catch (raw) {
      sendError(ctx, raw, deps.logger);
    } finally {
      const routeName = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      m.requests.inc({ role: 'api', route: routeName, status: String(ctx.status) });
      m.duration.observe({ role: 'api', route: routeName }, (Date.now() - started) / 1000);
      deps.logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Date.now() - started }, 'request');
    }
  });
  // JSON (and CSV) answers above the threshold, gzip or brotli as the client accepts. The dashboard's files are
  // not compressed here: the build ships them pre-compressed (.br/.gz) and the static handler sends those.
  app.use(
    compress({
      threshold: COMPRESS_THRESHOLD_BYTES,
      filter: (type) => /json|csv/i.test(type),
      gzip: GZIP_OPTIONS,
      deflate: false,
      br: BROTLI_OPTIONS,
    }),
  );
  // A JSON answer is serialized here, once. Left an object, it was serialized twice: koa-compress reads the
  // body's length for its threshold (Koa's length getter stringifies an object body) and Koa's respond then
  // stringifies it again to send it (for a 158 KiB time series, a large part of the request's CPU).
  app.use(async (ctx, next) => {
    await next();
    if (isJsonObjectBody(ctx.body) && !ctx.res.headersSent) ctx.body = JSON.stringify(ctx.body);
  });
  // Twilio's status callbacks and Meta's WhatsApp webhook are signed over their raw bodies, not JSON with an API key:
  // handled before the JSON parser.
  app.use(twilioStatusMiddleware({ alerting: deps.alerting, logger: deps.logger }));
  app.use(whatsappWebhookMiddleware({ alerting: deps.alerting, logger: deps.logger }));
  // JSON bodies, capped, strict UTF-8; the same reader the collector uses.
  app.use(async (ctx, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(ctx.method)) {
      const buf = await readBody(ctx.req, MAX_JSON_BODY);
      const text = buf.length ? decodeUtf8(buf) : '';
      let body: unknown = {};
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new ValidationError(`request body is not valid JSON: ${(err as Error).message}`);
        }
      }
      (ctx.request as unknown as { body: unknown }).body = body;
    }
    await next();
  });
  const validateResponses = deps.validateResponses ?? ['test', 'development'].includes(process.env.NODE_ENV ?? '');
  for (const r of routes) router[r.method](r.path, handlerOf(r, keys, { validateResponses }));
  const doc = openApiDocument(routes, API_INFO);
  router.get('/openapi.json', (ctx) => {
    ctx.body = doc;
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.metrics();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  // The dashboard: after every route, so it never shadows one; /api/... misses fall through to the 404 below.
  app.use(staticHandler({ root: deps.dashboardDir ?? null }));
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: { code: 'NOT_FOUND', message: `no route ${ctx.method} ${ctx.path}; see /openapi.json`, retriable: false, context: {} } };
  });
  return app;
}
