/**
 * The dashboard's only way to data: the public query API (docs/api.md,
 * /openapi.json) with the signed-in key. Errors keep the API's one shape
 * ({"error": {code, message, retriable, context}}) so pages can say what
 * went wrong and whether trying again helps.
 */
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
    res = await fetch(url, { method: opts.method ?? 'GET', headers, body: opts.body === undefined ? null : JSON.stringify(opts.body), signal: opts.signal ?? null, cache: 'no-store' });
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
    const err = new ApiError(e?.message ?? `${res.status} ${res.statusText}`, res.status, e?.code ?? `HTTP_${res.status}`, e?.retriable ?? res.status >= 500, e?.context ?? {});
    if (res.status === 401 && !opts.key) onUnauthorized(err);
    throw err;
  }
  return json as T;
}

// ------------------------------------------------------------ time series

export type Measure = { type: string; field?: string; alias?: string };
export type Filter = { field: string; op: string; value: string | number | boolean | (string | number)[] } | { and: Filter[] } | { or: Filter[] };

export interface TimeseriesRequest {
  signal?: 'events' | 'metrics';
  measures: Measure[];
  dimensions?: string[];
  filter?: Filter;
  range: { last: string } | { from: string | number; to: string | number };
  interval?: string;
  timezone?: string;
  compare?: 'previous_period';
  limit?: number;
}

export interface Series {
  dimensions: Record<string, string>;
  /** A bucket still filling also carries `partial: true` (read it with isPartial). */
  points: ({ t: number } & Record<string, number | null>)[];
  /** Each measure over the whole range (percentiles from the merged sketches, uniques counted once). */
  total?: Record<string, number | null>;
}

/** The API marks a bucket that ends after now with `partial: true`. */
export const isPartial = (p: object): boolean => (p as { partial?: unknown }).partial === true;

export interface TimeseriesResult {
  meta: { table: string; granularity: string; interval: string; timezone: string; from: number; to: number; approximate: string[]; cached: boolean };
  series: Series[];
  previous?: Series[];
}

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
