/**
 * The dashboard's only way to data: the public query API (docs/api.md,
 * /openapi.json) with the signed-in key. Errors keep the API's one shape
 * ({"error": {code, message, retriable, context}}) so pages can say what
 * went wrong and whether trying again helps.
 */
import type { paths } from './api-types.generated';
import { getKey } from './auth';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly retriable: boolean,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = (err: ApiError) => void;
let onUnauthorized: Listener = () => undefined;

/** Called when the API refuses the key (401): the shell signs out and shows the login form. */
export function setUnauthorizedHandler(fn: Listener): void {
  onUnauthorized = fn;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  signal?: AbortSignal;
  /** Use this key instead of the stored one (the login form checks a key before keeping it). */
  key?: string;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const key = opts.key ?? getKey();
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const url = `${path}${qs.size ? `?${qs}` : ''}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      signal: opts.signal ?? null,
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(`the API at ${location.host} cannot be reached: ${(err as Error).message}`, 0, 'NETWORK', true);
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): reported below with the status.
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; retriable?: boolean; context?: Record<string, unknown> } } | undefined)?.error;
    const err = new ApiError(
      e?.message ?? `${res.status} ${res.statusText}`,
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      e?.retriable ?? res.status >= 500,
      e?.context ?? {},
    );
    if (res.status === 401 && !opts.key) onUnauthorized(err);
    throw err;
  }
  return json as T;
}

// ------------------------------------------------------------ answer types

/**
 * The JSON body of an endpoint's success answer (200, or 201 for a creation), from
 * the types generated from the API's OpenAPI document (api-types.generated.ts), so
 * the dashboard's types cannot drift from the API's response schemas:
 * ApiAnswer<'/api/v1/keys', 'get'>.
 */
export type ApiAnswer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: { content: { 'application/json': infer T } } }
    ? T
    : R extends { 201: { content: { 'application/json': infer T } } }
      ? T
      : never
  : never;

/** The JSON request body of an endpoint, from the generated types. */
export type ApiBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } }
  ? B
  : never;

/** One item of a list answer ({items: [...]}, {metrics: [...]}...). */
export type ApiItem<P extends keyof paths, K extends string> = ApiAnswer<P, 'get' & keyof paths[P]> extends { [k in K]: (infer T)[] } ? T : never;

// ------------------------------------------------------------ time series

export type TimeseriesRequest = ApiBody<'/api/v1/query/timeseries', 'post'>;
export type TimeseriesResult = ApiAnswer<'/api/v1/query/timeseries', 'post'>;
export type Series = TimeseriesResult['series'][number];
export type Measure = TimeseriesRequest['measures'][number];
export type Filter = NonNullable<TimeseriesRequest['filter']>;

/** The API marks a bucket that ends after now with `partial: true`. */
export const isPartial = (p: { partial?: true }): boolean => p.partial === true;

export function timeseries(req: TimeseriesRequest, signal?: AbortSignal): Promise<TimeseriesResult> {
  return api<TimeseriesResult>('/api/v1/query/timeseries', { method: 'POST', body: req, ...(signal ? { signal } : {}) });
}

/**
 * One read-only SELECT through the SQL console (the engine scopes it to the
 * key's project). The answer is ClickHouse's JSON format: rows are in `data`,
 * and 64-bit integers arrive as strings (callers convert with Number()).
 */
export async function sql<T>(statement: string, signal?: AbortSignal): Promise<T[]> {
  const r = await api<{ data?: T[] }>('/api/v1/sql', { method: 'POST', body: { sql: statement, format: 'json' }, ...(signal ? { signal } : {}) });
  return r.data ?? [];
}

export const AM = '/api/analytics-monitoring';

export function get<T>(path: string, query: RequestOptions['query'] = {}, signal?: AbortSignal): Promise<T> {
  return api<T>(path, { query, ...(signal ? { signal } : {}) });
}
