import crypto from 'node:crypto';
import { z } from 'zod';
import {
  chTime,
  correctTime,
  firstIssue,
  isDurationName,
  jsonDepth,
  nonFinitePath,
  outOfRange,
  timestampInput,
  type Normalized,
  type NormalizeContext,
} from './common';

const MAX_DEPTH = 16;
const MAX_MEASURES = 64;
const ctxString = (max: number) => z.string().max(max).optional();

/** An event as producers send it (HTTP, SDK, or straight into Kafka). */
export const wireEvent = z.object({
  /** Client-generated; the same id on a resend lets the raw table collapse duplicates. */
  event_id: z.uuid().optional(),
  name: z.string().min(1).max(200),
  timestamp: timestampInput.optional(),
  sent_at: timestampInput.optional(),
  session_id: z.string().max(256).optional(),
  distinct_id: z.string().max(256).optional(),
  user_id: z.string().max(256).optional(),
  anonymous_id: z.string().max(256).optional(),
  properties: z.record(z.string().max(200), z.unknown()).optional(),
  context: z
    .object({
      product: ctxString(128),
      channel: ctxString(128),
      os: ctxString(128),
      app_version: ctxString(64),
      user_agent: ctxString(1024),
    })
    .optional(),
  /** Only on messages written straight into Kafka: the project they belong to. */
  project_id: z.string().max(64).optional(),
});
export type WireEvent = z.infer<typeof wireEvent>;

/** A row of events_raw_v1. */
export interface EventRow {
  project_id: string;
  event_id: string;
  name: string;
  timestamp: string;
  received_at: string;
  distinct_id: string;
  session_id: string;
  properties: string;
  measures: Record<string, number>;
  product: string;
  channel: string;
  os: string;
  app_version: string;
  user_agent: string;
}

/** The RFC 9562 pattern zod's z.uuid() uses, minus its nil/max special cases (those take the zod path). */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const optString = (v: unknown, max: number): boolean => v === undefined || (typeof v === 'string' && v.length <= max);
const optTime = (v: unknown): boolean =>
  v === undefined || (typeof v === 'string' && v.length >= 1 && v.length <= 64) || (typeof v === 'number' && Number.isFinite(v));
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Hot-path check of the common, valid event, about ten times cheaper than
 * zod's. Invariant: it accepts only what `wireEvent` accepts (a unit test
 * compares both on a corpus); anything it is unsure of goes through zod,
 * which also writes the error message.
 */
export function fastWireEvent(x: unknown): WireEvent | undefined {
  if (!isPlainObject(x)) return undefined;
  const { name, event_id, properties, context } = x;
  if (typeof name !== 'string' || name.length < 1 || name.length > 200) return undefined;
  if (event_id !== undefined && !(typeof event_id === 'string' && UUID.test(event_id))) return undefined;
  if (!optTime(x.timestamp) || !optTime(x.sent_at)) return undefined;
  if (!optString(x.session_id, 256) || !optString(x.distinct_id, 256) || !optString(x.user_id, 256) || !optString(x.anonymous_id, 256)) return undefined;
  if (!optString(x.project_id, 64)) return undefined;
  if (properties !== undefined) {
    if (!isPlainObject(properties)) return undefined;
    for (const k in properties) if (k.length > 200) return undefined;
  }
  if (context !== undefined) {
    if (!isPlainObject(context)) return undefined;
    if (!optString(context.product, 128) || !optString(context.channel, 128) || !optString(context.os, 128)) return undefined;
    if (!optString(context.app_version, 64) || !optString(context.user_agent, 1024)) return undefined;
  }
  return x as WireEvent;
}

export function normalizeEvent(input: unknown, ctx: NormalizeContext): Normalized<EventRow> {
  let e = fastWireEvent(input);
  if (!e) {
    const parsed = wireEvent.safeParse(input);
    if (!parsed.success) return { ok: false, reason: firstIssue(parsed.error) };
    e = parsed.data;
  }
  const time = correctTime(ctx, e.timestamp, e.sent_at);
  if ('error' in time) return { ok: false, reason: time.error };
  const props = e.properties ?? {};
  if (jsonDepth(props, MAX_DEPTH) > MAX_DEPTH) return { ok: false, reason: `properties: nested deeper than ${MAX_DEPTH} levels` };
  const measures: Record<string, number> = {};
  let n = 0;
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'number' && v < 0 && isDurationName(k)) return { ok: false, reason: `properties.${k}: a duration cannot be negative (got ${v})` };
    if (typeof v === 'number' && Number.isFinite(v) && n < MAX_MEASURES) {
      measures[k] = v;
      n++;
    }
  }
  const bad = nonFinitePath(props, 'properties');
  if (bad !== undefined) return { ok: false, reason: outOfRange(bad) };
  const c = e.context ?? {};
  return {
    ok: true,
    warnings: time.warnings,
    row: {
      project_id: ctx.projectId,
      event_id: e.event_id ?? crypto.randomUUID(),
      name: e.name,
      timestamp: chTime(time.ms),
      received_at: chTime(ctx.receivedAt),
      distinct_id: e.distinct_id ?? e.user_id ?? e.anonymous_id ?? '',
      session_id: e.session_id ?? '',
      properties: JSON.stringify(props),
      measures,
      product: c.product ?? '',
      channel: c.channel ?? '',
      os: c.os ?? '',
      app_version: c.app_version ?? '',
      user_agent: c.user_agent ?? '',
    },
  };
}

/** Column order of events_raw_v1 inserts (JSONCompactEachRow: values without repeated keys). */
export const EVENT_COLUMNS: readonly (keyof EventRow)[] = [
  'project_id',
  'event_id',
  'name',
  'timestamp',
  'received_at',
  'distinct_id',
  'session_id',
  'properties',
  'measures',
  'product',
  'channel',
  'os',
  'app_version',
  'user_agent',
];

/** Kafka key: one user's events share a partition, so they stay ordered. */
export function eventKey(row: EventRow): string {
  return `${row.project_id}:${row.distinct_id || row.session_id || row.event_id}`;
}
