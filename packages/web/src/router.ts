/**
 * Hash routing: every page and all of its state (range, measure, breakdown,
 * filters, tab, ...) live in the fragment, e.g.
 *   #/events?measure=count&breakdown=name&f=channel:is:web&range=24h&compare=1
 * so a URL can be shared or bookmarked and Back/Forward work. The fragment is
 * never sent to the server, and the server only has to serve index.html.
 */
export const PAGES = ['overview', 'events', 'metrics', 'business', 'health', 'alerts'] as const;
export type Page = (typeof PAGES)[number];

export const PAGE_TITLES: Record<Page, string> = {
  overview: 'Overview',
  events: 'Events',
  metrics: 'Metrics',
  business: 'Business',
  health: 'Health',
  alerts: 'Alerts',
};

export interface Route {
  page: Page | 'not-found';
  /** The path as written, e.g. "events" (for the not-found message). */
  path: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = (q >= 0 ? raw.slice(0, q) : raw).replace(/^\/+|\/+$/g, '');
  const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  if (path === '') return { page: 'overview', path, params };
  return { page: (PAGES as readonly string[]).includes(path) ? (path as Page) : 'not-found', path, params };
}

export type ParamValues = Record<string, string | number | boolean | string[] | null | undefined>;

/** URLSearchParams of the given values; null, undefined, false and '' are left out (their defaults apply). */
export function toParams(values: ParamValues): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined || v === false || v === '') continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, v === true ? '1' : String(v));
  }
  return p;
}

export function hrefOf(page: Page, params: URLSearchParams | ParamValues = {}): string {
  const p = params instanceof URLSearchParams ? params : toParams(params);
  const s = p.toString();
  return `#/${page}${s ? `?${s}` : ''}`;
}

/** The params with some values replaced (null/undefined/''/false remove them). */
export function withParams(params: URLSearchParams, patch: ParamValues): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(patch)) {
    next.delete(k);
    if (v === null || v === undefined || v === false || v === '') continue;
    if (Array.isArray(v)) for (const x of v) next.append(k, x);
    else next.set(k, v === true ? '1' : String(v));
  }
  return next;
}

/** A value from the URL if it is one of the allowed ones, else the default: a hand-edited URL cannot produce a bad request. */
export function pick<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const v = params.get(name);
  return v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
}
