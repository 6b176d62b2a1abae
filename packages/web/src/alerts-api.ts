/**
 * The alerts endpoints of the query API (/api/analytics-monitoring/alerts/...),
 * which mount the alerting package's AlertingService. Shapes follow that
 * service (packages/alerting/src/api/service.ts).
 */
import { AM, api, get } from './api';

export interface ActiveAlert {
  rule: string;
  fingerprint: string;
  kind: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'recovering' | string;
  severity: string;
  value: number | null;
  episode: number;
  activeSince: string | null;
  firedAt: string | null;
  lastEvalAt: string;
  acknowledged: { at: string; by: string; comment: string } | null;
  mutedBy: string | null;
}

export interface HistoryEntry {
  id: number;
  rule: string;
  fingerprint: string;
  labels: Record<string, string>;
  from: string;
  to: string;
  severity: string;
  value: number | null;
  at: string;
  detail: string | null;
}

export interface Silence {
  id: string;
  matchers: unknown[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  state: 'active' | 'pending' | 'expired';
}

export interface StoredRule {
  name: string;
  source: string;
  sourceFile: string | null;
  enabled: boolean;
  spec: { name: string; description?: string; interval?: number | string; severity?: string; for?: number | string; sql?: string; condition?: unknown };
  updatedAt: string;
}

export interface PreviewResult {
  from: string;
  to: string;
  stepMs: number;
  evaluations: number;
  transitions: { at: string; fingerprint: string; labels: Record<string, string>; from: string; to: string; value: number | null; severity: string }[];
  episodes: { fingerprint: string; labels: Record<string, string>; pendingAt: string; firedAt: string | null; resolvedAt: string | null; peakSeverity: string }[];
  errors: { at: string; message: string }[];
  warnings: string[];
}

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
  return api<ActiveAlert>(`${BASE}/active/${encodeURIComponent(a.rule)}/${encodeURIComponent(a.fingerprint)}/acknowledge`, { method: 'POST', body: { by, comment } });
}

export function preview(name: string, from: Date, to: Date, stepMs: number | undefined, signal?: AbortSignal): Promise<PreviewResult> {
  return api<PreviewResult>(`${BASE}/rules/preview`, { method: 'POST', body: { name, from: from.toISOString(), to: to.toISOString(), ...(stepMs ? { step_ms: stepMs } : {}) }, ...(signal ? { signal } : {}) });
}

export function createSilence(input: { matchers: string[]; ends_at: string; created_by: string; comment: string }): Promise<Silence> {
  return api<Silence>(`${BASE}/silences`, { method: 'POST', body: input });
}
