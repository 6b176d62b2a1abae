/**
 * The Events explorer's state: what the URL holds (#/events?measure=...&by=...&f=...)
 * and the time-series request it stands for. Pure functions, unit-tested.
 */
import type { Filter, TimeseriesRequest } from './api';
import { pick } from './router';

export const MEASURES = ['count', 'unique_users', 'unique_sessions', 'sum', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99'] as const;
export const MEASURE_LABELS: Record<(typeof MEASURES)[number], string> = {
  count: 'Count',
  unique_users: 'Unique users',
  unique_sessions: 'Unique sessions',
  sum: 'Sum of',
  avg: 'Average of',
  min: 'Minimum of',
  max: 'Maximum of',
  p50: 'p50 of',
  p90: 'p90 of',
  p95: 'p95 of',
  p99: 'p99 of',
};
export const NEEDS_FIELD = new Set(['sum', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99']);
export const ADDITIVE = new Set(['count', 'sum']);
export const RANGES = ['15m', '1h', '6h', '24h', '7d', '30d'] as const;
export const INTERVALS = ['auto', '1m', '5m', '15m', '1h', '6h', '1d', '1w'] as const;
export const DIMENSIONS = ['name', 'product', 'channel', 'os', 'app_version', 'distinct_id', 'session_id'];
export const OPS = ['is', 'is_not', 'contains', 'in', 'gt', 'gte', 'lt', 'lte'] as const;
export const OP_LABELS: Record<(typeof OPS)[number], string> = { is: '=', is_not: '≠', contains: 'contains', in: 'in', gt: '>', gte: '≥', lt: '<', lte: '≤' };
const FIELD_RE = /^(name|product|channel|os|app_version|distinct_id|session_id|properties\.[A-Za-z0-9_.:-]{1,128})$/;

export interface LeafFilter {
  field: string;
  op: (typeof OPS)[number];
  value: string;
}

/** "field:op:value" (the value may hold colons) → a filter, or null when malformed. */
export function parseFilter(s: string): LeafFilter | null {
  const a = s.indexOf(':');
  const b = a < 0 ? -1 : s.indexOf(':', a + 1);
  if (a < 0 || b < 0) return null;
  const field = s.slice(0, a);
  const op = s.slice(a + 1, b);
  const value = s.slice(b + 1);
  if (!FIELD_RE.test(field) || !(OPS as readonly string[]).includes(op)) return null;
  return { field, op: op as LeafFilter['op'], value };
}

export function filterParam(f: LeafFilter): string {
  return `${f.field}:${f.op}:${f.value}`;
}

export function toApiFilter(filters: LeafFilter[]): Filter | undefined {
  const leaves: Filter[] = filters.map((f) => ({
    field: f.field,
    op: f.op,
    value:
      f.op === 'in'
        ? f.value
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
        : ['gt', 'gte', 'lt', 'lte'].includes(f.op)
          ? Number(f.value)
          : f.value,
  }));
  if (leaves.length === 0) return undefined;
  return leaves.length === 1 ? leaves[0] : { and: leaves };
}

/** The explorer's state from the URL, each value checked so a hand-edited link cannot make a bad request. */
export function explorerState(params: URLSearchParams) {
  const measure = pick(params, 'measure', MEASURES, 'count');
  const fieldRaw = params.get('field') ?? '';
  const field = /^[A-Za-z0-9_.:-]{1,128}$/.test(fieldRaw) ? fieldRaw : '';
  const byRaw = params.get('by') ?? '';
  const by = FIELD_RE.test(byRaw) ? byRaw : '';
  const filters = params
    .getAll('f')
    .map(parseFilter)
    .filter((f): f is LeafFilter => f !== null);
  const range = pick(params, 'range', RANGES, '24h');
  const interval = pick(params, 'interval', INTERVALS, 'auto');
  const compare = params.get('compare') === '1';
  return { measure, field, by, filters, range, interval, compare };
}

export function explorerRequest(s: ReturnType<typeof explorerState>): TimeseriesRequest | null {
  if (NEEDS_FIELD.has(s.measure) && !s.field) return null;
  const filter = toApiFilter(s.filters);
  return {
    measures: [{ type: s.measure, ...(NEEDS_FIELD.has(s.measure) ? { field: s.field } : {}), alias: 'value' }],
    dimensions: s.by ? [s.by] : [],
    ...(filter ? { filter } : {}),
    range: { last: s.range },
    interval: s.interval,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    ...(s.compare ? { compare: 'previous_period' as const } : {}),
    limit: 20,
  };
}
