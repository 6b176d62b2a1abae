/**
 * The alerts endpoints of the query API (/api/analytics-monitoring/alerts/...),
 * which mount the alerting package's AlertingService. The shapes are the
 * API's response schemas, through the generated types: not copied by hand.
 */
import { AM, api, get, type ApiAnswer } from './api';

export type { ApiAnswer };

type Alerts = '/api/analytics-monitoring/alerts';

export type ActiveAlert = ApiAnswer<`${Alerts}/active`, 'get'>['items'][number];
export type HistoryEntry = ApiAnswer<`${Alerts}/history`, 'get'>['items'][number];
export type Silence = ApiAnswer<`${Alerts}/silences/{id}`, 'get'>;
export type StoredRule = ApiAnswer<`${Alerts}/rules/{name}`, 'get'>;
export type PreviewResult = ApiAnswer<`${Alerts}/rules/preview`, 'post'>;

const BASE = `${AM}/alerts`;

/** Lists are answered as {items: [...]}. */
function list<T>(r: unknown): T[] {
  const items = (r as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}

export async function activeAlerts(signal?: AbortSignal): Promise<ActiveAlert[]> {
  return list<ActiveAlert>(await get(`${BASE}/active`, {}, signal));
}

export async function alertHistory(query: { rule?: string; limit?: number }, signal?: AbortSignal): Promise<HistoryEntry[]> {
  return list<HistoryEntry>(await get(`${BASE}/history`, query, signal));
}

export async function silences(signal?: AbortSignal): Promise<Silence[]> {
  return list<Silence>(await get(`${BASE}/silences`, {}, signal));
}

export async function rules(signal?: AbortSignal): Promise<StoredRule[]> {
  return list<StoredRule>(await get(`${BASE}/rules`, {}, signal));
}

/** Needs an admin key (the API answers 403 to a read key). */
export function acknowledge(a: ActiveAlert, by: string, comment: string): Promise<ActiveAlert> {
  return api<ActiveAlert>(`${BASE}/active/${encodeURIComponent(a.rule)}/${encodeURIComponent(a.fingerprint)}/acknowledge`, {
    method: 'POST',
    body: { by, comment },
  });
}

export function preview(name: string, from: Date, to: Date, stepMs: number | undefined, signal?: AbortSignal): Promise<PreviewResult> {
  return api<PreviewResult>(`${BASE}/rules/preview`, {
    method: 'POST',
    body: { name, from: from.toISOString(), to: to.toISOString(), ...(stepMs ? { step_ms: stepMs } : {}) },
    ...(signal ? { signal } : {}),
  });
}

export function createSilence(input: { matchers: string[]; ends_at: string; created_by: string; comment: string }): Promise<Silence> {
  return api<Silence>(`${BASE}/silences`, { method: 'POST', body: input });
}
