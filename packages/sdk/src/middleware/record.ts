import type { TidemarkClient } from '../client';

/** The part of a pino logger the middleware uses (any logger with these methods works). */
export interface RequestLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RequestMiddlewareOptions {
  /** `service` label of the metrics and field of the log lines (default: the client's service, else "app"). */
  service?: string;
  /** A pino logger: one line per request ("request completed"), error level for 5xx, warn for 4xx. false: no logging. */
  logger?: RequestLogger | false;
  /** Requests to leave out entirely (health checks, metrics scrapes). */
  ignore?: (path: string, method: string) => boolean;
}

/** What the middleware learned about one finished request. */
export interface RequestRecord {
  method: string;
  /** Route template ("/users/:id"), never the raw path: the raw path would give a series per id. */
  route: string;
  path: string;
  status: number;
  durationMs: number;
  /** Log-only fields: read from the request only when the recorder logs. */
  clientIp?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  err?: unknown;
}

/** Route label of requests no route matched (404s, static files): one series instead of one per path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Metrics and log line of one request, as the requirements' logging
 * middleware records them: http_requests_total (a counter per method, route,
 * status and service) and http_request_duration_ms (one histogram sample per
 * request, in ms), plus a pino line with method, path, status_code,
 * duration_ms and client_ip. Never throws into the request.
 */
export interface RequestRecorder {
  /** Whether log lines are written: the middleware reads the log-only fields (client IP, user agent, request id) only then. */
  readonly logging: boolean;
  record(r: RequestRecord): void;
}

export function createRequestRecorder(client: TidemarkClient, opts: RequestMiddlewareOptions = {}): RequestRecorder {
  const requests = client.counter('http_requests_total');
  const duration = client.histogram('http_request_duration_ms');
  const service = opts.service ?? client.serviceName ?? 'app';
  const logger = opts.logger === false ? undefined : opts.logger;
  const record = (r: RequestRecord): void => {
    try {
      const labels = { method: r.method, route: r.route, status: String(r.status), service };
      requests.inc(labels);
      duration.observe(labels, r.durationMs);
      if (logger) {
        const line: Record<string, unknown> = {
          service,
          method: r.method,
          path: r.path,
          route: r.route,
          status_code: r.status,
          duration_ms: Math.round(r.durationMs * 1000) / 1000,
          client_ip: r.clientIp,
          user_agent: r.userAgent,
        };
        if (r.requestId !== undefined) line.request_id = r.requestId;
        if (r.err !== undefined) line.err = r.err;
        if (r.status >= 500) logger.error(line, 'request completed');
        else if (r.status >= 400) logger.warn(line, 'request completed');
        else logger.info(line, 'request completed');
      }
    } catch {
      // Recording must never break the host's request; the SDK reports its own problems via onError.
    }
  };
  return { logging: logger !== undefined, record };
}

/** Status of a thrown error the way Koa and Express answer it: its status/statusCode if 4xx/5xx, else 500. */
export function errorStatus(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const s = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  return s >= 400 && s <= 599 ? s : 500;
}

/** Status recorded for a request whose client went away before the answer was sent (as nginx logs it). */
export const CLIENT_CLOSED_STATUS = 499;
