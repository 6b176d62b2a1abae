import dc from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TidemarkClient } from '../client';
import { CLIENT_CLOSED_STATUS, createRequestRecorder, UNMATCHED_ROUTE, type RequestMiddlewareOptions } from './record';

/** The part of an Express request the middleware reads (structural, so the SDK does not depend on express). */
export interface ExpressLikeRequest extends IncomingMessage {
  method?: string;
  path?: string;
  baseUrl?: string;
  ip?: string;
  /** Set by Express once a route matched: its path template. */
  route?: { path?: unknown };
}

export interface ExpressMiddlewareOptions extends RequestMiddlewareOptions {
  /** Route label of a request; default: baseUrl + the matched route's path, else "unmatched". */
  route?: (req: ExpressLikeRequest) => string | undefined;
}

/**
 * Remembers the route template when Express matches a route. baseUrl (the
 * mount path of the router holding the route) must be read at that moment:
 * once a router passes an error on, Express restores baseUrl, and the
 * answer (from an error handler) comes later. So `req.route` is turned into
 * an accessor that notes baseUrl + route.path whenever Express assigns it.
 */
function watchRoute(req: ExpressLikeRequest): () => string {
  let template: string | undefined;
  let current = req.route;
  try {
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set: (route: ExpressLikeRequest['route']) => {
        current = route;
        const path = route?.path;
        if (path !== undefined && path !== null) template = `${req.baseUrl ?? ''}${Array.isArray(path) ? path.map(String).join('|') : String(path)}`;
      },
    });
  } catch {
    // A frozen or exotic request object: fall back to reading req.route at the end.
  }
  return () => {
    if (template !== undefined) return template;
    const path = req.route?.path;
    return path === undefined || path === null ? UNMATCHED_ROUTE : `${req.baseUrl ?? ''}${String(path)}`;
  };
}

/**
 * The error a handler threw (or passed to next(), or rejected with), per
 * request. A middleware mounted first never sees it: Express hands errors
 * only to the error handlers after the handler that failed. Express 5's
 * router (2.3 and later) publishes them on the `express.router.request`
 * tracing channel (diagnostics_channel), once, where they originate; the
 * first one of a request is kept here for its log line. A WeakMap, so a
 * request that is never recorded leaves nothing behind.
 */
const routerErrors = new WeakMap<object, unknown>();
let watchingRouterErrors = false;

function onRouterError(message: unknown): void {
  const ctx = message as { req?: object; error?: unknown } | null;
  if (ctx?.req && ctx.error !== undefined && !routerErrors.has(ctx.req)) routerErrors.set(ctx.req, ctx.error);
}

/** Subscribes once per process, when the first Express middleware is made (apps without it pay nothing). */
function watchRouterErrors(): void {
  if (watchingRouterErrors) return;
  watchingRouterErrors = true;
  dc.subscribe('tracing:express.router.request:error', onRouterError);
}

/**
 * Express middleware recording every request (method, route template,
 * status, duration) as metrics and a pino log line. Mount it first
 * (`app.use(expressMiddleware(client, { logger }))`). The record is made
 * when the response finished, or with status 499 when the client went away.
 * With a logger, the line has `err` when a handler failed (Express 5; see
 * routerErrors).
 */
export function expressMiddleware(
  client: TidemarkClient,
  opts: ExpressMiddlewareOptions = {},
): (req: ExpressLikeRequest, res: ServerResponse, next: (err?: unknown) => void) => void {
  const recorder = createRequestRecorder(client, opts);
  if (recorder.logging) watchRouterErrors();
  return function tidemarkExpress(req, res, next) {
    const path = req.path ?? (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (opts.ignore?.(path, method)) {
      next();
      return;
    }
    const start = process.hrtime.bigint();
    const route = watchRoute(req);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      const base = {
        method,
        route: (opts.route ? opts.route(req) : undefined) ?? route(),
        path,
        status: closed && !res.writableFinished ? CLIENT_CLOSED_STATUS : res.statusCode,
        durationMs: Number(process.hrtime.bigint() - start) / 1e6,
      };
      if (!recorder.logging) {
        recorder.record(base);
        return;
      }
      const requestId = req.headers['x-request-id'];
      const err = routerErrors.get(req);
      recorder.record({
        ...base,
        clientIp: req.ip ?? req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
        requestId: Array.isArray(requestId) ? requestId[0] : requestId,
        ...(err !== undefined ? { err } : {}),
      });
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(true));
    next();
  };
}
