import { z } from 'zod';
import { chTime, correctTime, firstIssue, jsonDepth, nonFinitePath, outOfRange, type Normalized, type NormalizeContext } from './common';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
/** pino's numeric levels, so a pino transport can send its lines as they are. */
const PINO_LEVELS: Record<number, (typeof LEVELS)[number]> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const MAX_MESSAGE = 64 * 1024;
const MAX_ATTRIBUTES = 64;

/**
 * A log line as producers send it. Lenient on purpose: the field names of
 * pino (`msg`, `time`, numeric `level`) and of the requirements' ELK lines
 * (`message`, `timestamp`, `level` text) both work; other top-level fields
 * become attributes.
 */
export const wireLog = z
  .object({
    timestamp: z.union([z.string().max(64), z.number().finite()]).optional(),
    time: z.union([z.string().max(64), z.number().finite()]).optional(),
    sent_at: z.union([z.string().max(64), z.number().finite()]).optional(),
    level: z.union([z.string().max(16), z.number().int()]).optional(),
    service: z.string().max(128).optional(),
    name: z.string().max(128).optional(),
    message: z.string().optional(),
    msg: z.string().optional(),
    attributes: z.record(z.string().max(128), z.unknown()).optional(),
    trace_id: z.string().max(128).optional(),
    request_id: z.string().max(128).optional(),
    project_id: z.string().max(64).optional(),
  })
  .catchall(z.unknown());

/** A row of logs_raw_v1. */
export interface LogRow {
  project_id: string;
  timestamp: string;
  received_at: string;
  level: string;
  service: string;
  message: string;
  attributes: Record<string, string>;
  trace_id: string;
  request_id: string;
}

const KNOWN = new Set([
  'timestamp',
  'time',
  'sent_at',
  'level',
  'service',
  'name',
  'message',
  'msg',
  'attributes',
  'trace_id',
  'request_id',
  'project_id',
  'pid',
  'hostname',
  'v',
]);

function levelOf(v: string | number | undefined): string | undefined {
  if (v === undefined) return 'INFO';
  if (typeof v === 'number') return PINO_LEVELS[v];
  const up = v.toUpperCase();
  if (up === 'WARNING') return 'WARN';
  if (up === 'CRITICAL') return 'FATAL';
  return (LEVELS as readonly string[]).includes(up) ? up : undefined;
}

function attributeValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function normalizeLog(input: unknown, ctx: NormalizeContext): Normalized<LogRow> {
  const parsed = wireLog.safeParse(input);
  if (!parsed.success) return { ok: false, reason: firstIssue(parsed.error) };
  const l = parsed.data;
  const level = levelOf(l.level);
  if (!level) return { ok: false, reason: `level: ${JSON.stringify(l.level)} is not one of ${LEVELS.join(', ')} (or a pino level number)` };
  const message = l.message ?? l.msg ?? '';
  if (message.length > MAX_MESSAGE) return { ok: false, reason: `message: longer than ${MAX_MESSAGE} characters` };
  const time = correctTime(ctx, l.timestamp ?? l.time, l.sent_at);
  if ('error' in time) return { ok: false, reason: time.error };
  const attributes: Record<string, string> = {};
  const extra = Object.entries(l).filter(([k]) => !KNOWN.has(k));
  for (const [k, v] of [...Object.entries(l.attributes ?? {}), ...extra]) {
    if (Object.keys(attributes).length >= MAX_ATTRIBUTES) break;
    if (jsonDepth(v, 8) > 8) return { ok: false, reason: `attributes.${k}: nested deeper than 8 levels` };
    const bad = nonFinitePath(v, `attributes.${k}`);
    if (bad !== undefined) return { ok: false, reason: outOfRange(bad) };
    attributes[k] = attributeValue(v);
  }
  return {
    ok: true,
    warnings: time.warnings,
    row: {
      project_id: ctx.projectId,
      timestamp: chTime(time.ms),
      received_at: chTime(ctx.receivedAt),
      level,
      service: l.service ?? l.name ?? '',
      message,
      attributes,
      trace_id: l.trace_id ?? '',
      request_id: l.request_id ?? (typeof attributes.request_id === 'string' ? attributes.request_id : ''),
    },
  };
}

export const LOG_COLUMNS: readonly (keyof LogRow)[] = [
  'project_id',
  'timestamp',
  'received_at',
  'level',
  'service',
  'message',
  'attributes',
  'trace_id',
  'request_id',
];

export function logKey(row: LogRow): string {
  return `${row.project_id}:${row.service}`;
}
