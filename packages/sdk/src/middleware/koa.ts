import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TidemarkClient } from '../client';
import { CLIENT_CLOSED_STATUS, createRequestRecorder, errorStatus, UNMATCHED_ROUTE, type RequestMiddlewareOptions } from './record';

/** The part of a Koa context the middleware reads (structural, so the SDK does not depend on koa). */
export interface KoaLikeContext {
  method: string;
  path: string;
  ip?: string;
  req: IncomingMessage;
  res: ServerResponse;
  /** Set by @koa/router: the matched route's path template. */
  _matchedRoute?: string | RegExp;
}

export interface KoaMiddlewareOptions extends RequestMiddlewareOptions {
  /** Route label of a request; default: @koa/router's matched route template, else "unmatched". */
  route?: (ctx: KoaLikeContext) => string | undefined;
}

/**
 * Koa middleware recording every request (method, route template, status,
 * duration) as metrics and a pino log line. Use it first (`app.use`) so it
 * times the whole chain. The record is made when the response finished
 * (or the client went away), so streamed bodies and errors answered by
 * Koa's own handler get their real status and duration.
 */
export function koaMiddleware(client: TidemarkClient, opts: KoaMiddlewareOptions = {}): (ctx: KoaLikeContext, next: () => Promise<unknown>) => Promise<void> {
  const recorder = createRequestRecorder(client, opts);
  return async function tidemarkKoa(ctx, next) {
    if (opts.ignore?.(ctx.path, ctx.method)) {
      await next();
      return;
    }
    const start = process.hrtime.bigint();
    let thrown: unknown;
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      const route = (opts.route ? opts.route(ctx) : undefined) ?? (ctx._matchedRoute !== undefined ? String(ctx._matchedRoute) : UNMATCHED_ROUTE);
      const status =
        closed && !ctx.res.writableFinished ? CLIENT_CLOSED_STATUS : thrown !== undefined && !ctx.res.headersSent ? errorStatus(thrown) : ctx.res.statusCode;
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (!recorder.logging) {
        recorder.record({ method: ctx.method, route, path: '', status, durationMs });
        return;
      }
      const requestId = ctx.req.headers['x-request-id'];
      recorder.record({
        method: ctx.method,
        route,
        path: ctx.path,
        status,
        durationMs,
        clientIp: ctx.ip ?? ctx.req.socket.remoteAddress,
        userAgent: ctx.req.headers['user-agent'],
        requestId: Array.isArray(requestId) ? requestId[0] : requestId,
        ...(thrown !== undefined ? { err: thrown } : {}),
      });
    };
    ctx.res.once('finish', () => finish(false));
    ctx.res.once('close', () => finish(true));
    try {
      await next();
    } catch (err) {
      thrown = err;
      throw err;
    }
  };
}
