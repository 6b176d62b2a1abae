/// <reference lib="es2024.string" />
import { z } from 'zod';

/** Limits and clocks every signal's normalisation uses. */
export interface NormalizeContext {
  projectId: string;
  /** When the collector received the request (epoch ms). */
  receivedAt: number;
  /** Client clock at send time (epoch ms), for skew correction. */
  sentAt?: number;
  /** Events further than this in the future are clamped to receivedAt. */
  futureToleranceMs: number;
  /** Events older than this are refused: the raw tables would drop them at once. */
  retentionMs: number;
}

/** Something the collector changed in an accepted item, queryable by the project. */
export interface IngestWarning {
  kind: string;
  detail: string;
}

export type Normalized<Row> = { ok: true; row: Row; warnings: IngestWarning[] } | { ok: false; reason: string };

/** A timestamp as ISO 8601 text or epoch milliseconds. */
export const timestampInput = z.union([z.string().min(1).max(64), z.number().finite()]);

export function parseTimestamp(v: string | number): number | undefined {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? ms : undefined;
}

let lastSecond = NaN;
let secondText = '';
const MS_TEXT = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}`);
/**
 * ClickHouse DateTime64(3) text: "YYYY-MM-DD hh:mm:ss.mmm" in UTC. Events of
 * a batch mostly share their second, so the date-and-time part is formatted
 * once per second and only the milliseconds are appended (profiling showed
 * toISOString per event as 4% of the collector's CPU).
 */
export function chTime(time: number): string {
  const ms = Math.floor(time); // fractional epoch milliseconds are truncated, as toISOString does
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    const iso = new Date(second * 1000).toISOString();
    lastSecond = second;
    secondText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }
  return secondText + MS_TEXT[ms - second * 1000]!;
}

/**
 * An offset (receivedAt - sentAt) this small cannot be told apart from the
 * request's own transport time: on a loaded host a loopback request can take
 * a second. Correcting by it would shift each batch by its own latency and
 * reorder samples a producer sent in separate batches, so it is ignored.
 */
export const CLOCK_OFFSET_TOLERANCE_MS = 2_000;

/**
 * The event time the collector stores: the client's timestamp corrected by
 * the client's clock offset (receivedAt - sentAt) when that offset is larger
 * than transport latency could explain, clamped when it lands in the future,
 * refused when it is older than retention.
 */
export function correctTime(
  ctx: NormalizeContext,
  timestamp: string | number | undefined,
  itemSentAt?: string | number,
): { ms: number; warnings: IngestWarning[] } | { error: string } {
  const warnings: IngestWarning[] = [];
  if (timestamp === undefined) return { ms: ctx.receivedAt, warnings };
  const ts = parseTimestamp(timestamp);
  if (ts === undefined) return { error: `timestamp ${JSON.stringify(timestamp).slice(0, 80)} is not an ISO 8601 date or epoch milliseconds` };
  const sentAt = itemSentAt !== undefined ? parseTimestamp(itemSentAt) : ctx.sentAt;
  let ms = ts;
  if (sentAt !== undefined) {
    const offset = ctx.receivedAt - sentAt;
    if (Math.abs(offset) > CLOCK_OFFSET_TOLERANCE_MS) ms = ts + offset;
    if (Math.abs(offset) > 60_000) warnings.push({ kind: 'clock_skew_corrected', detail: `client clock off by ${offset} ms` });
  }
  if (ms > ctx.receivedAt + ctx.futureToleranceMs) {
    warnings.push({ kind: 'timestamp_in_future', detail: `timestamp ${new Date(ms).toISOString()} clamped to receive time` });
    ms = ctx.receivedAt;
  }
  if (ms < ctx.receivedAt - ctx.retentionMs) {
    return { error: `timestamp ${new Date(ms).toISOString()} is older than the raw retention window` };
  }
  return { ms, warnings };
}

/** Nesting depth of a parsed JSON value (a scalar is 0). Stops counting past `limit`. */
export function jsonDepth(v: unknown, limit: number, depth = 0): number {
  if (depth > limit || v === null || typeof v !== 'object') return depth;
  let max = depth + 1;
  for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
    max = Math.max(max, jsonDepth(child, limit, depth + 1));
    if (max > limit) return max;
  }
  return max;
}

/**
 * The path of the first number JSON.parse could not hold (a literal such as
 * 1e400 parses to Infinity), or undefined. Such a value would be stored as
 * null by JSON.stringify, silently; the item is refused instead, naming it.
 * Called after jsonDepth bounded the nesting.
 */
export function nonFinitePath(v: unknown, path: string): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : path;
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = nonFinitePath(v[i], `${path}[${i}]`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  for (const k in v as Record<string, unknown>) {
    const p = nonFinitePath((v as Record<string, unknown>)[k], `${path}.${k}`);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** The refusal reason for a number out of the double range. */
export const outOfRange = (path: string): string => `${path}: number out of range (larger than a 64-bit float can hold, e.g. 1e400); send it as a string`;

/** First zod issue as "path: message", for row-level errors. */
export function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid';
  const path = i.path.length > 0 ? i.path.join('.') : '(item)';
  return `${path}: ${i.message}`;
}

/** Label and attribute values arrive as strings, numbers or booleans; they are stored as strings. */
export const scalar = z.union([z.string().max(4096), z.number().finite(), z.boolean()]);
export function scalarMap(rec: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (rec) for (const [k, v] of Object.entries(rec)) out[k] = String(v);
  return out;
}

/**
 * One row as a JSONCompactEachRow line: the values in `columns` order, no
 * keys, newline-terminated. Rows are serialised once, where they are made
 * (request handler or Kafka producer), and travel as text from then on:
 * an insert body is the lines concatenated, never re-encoded. JSON.stringify
 * escapes control characters, so a line never contains a raw newline.
 */
export function compactLine(columns: readonly string[], row: object): string {
  const r = row as Record<string, unknown>;
  const values = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) values[i] = r[columns[i]!];
  return `${JSON.stringify(values)}\n`;
}

/** How many replaced fields a warning names at most. */
const MAX_FIELDS_NAMED = 5;

/**
 * A deep copy of a parsed JSON value in which every string and object key
 * that is not well-formed UTF-16 (a lone surrogate, e.g. from the JSON escape
 * "\ud800") has each lone surrogate replaced by U+FFFD. Such strings cannot
 * be stored: ClickHouse refuses a whole insert over one unpaired high
 * surrogate ("missing second part of surrogate pair") and stores an
 * unpaired low one as invalid UTF-8, so one hostile string used to cost
 * every row micro-batched with it. `fields` receives the paths replaced.
 */
export function replaceLoneSurrogates(v: unknown, fields: string[], path = ''): unknown {
  const note = (p: string): void => {
    if (fields.length < MAX_FIELDS_NAMED) fields.push(p || '(item)');
    else if (fields.length === MAX_FIELDS_NAMED) fields.push('...');
  };
  if (typeof v === 'string') {
    if (v.isWellFormed()) return v;
    note(path);
    return v.toWellFormed();
  }
  if (Array.isArray(v)) return v.map((x, i) => replaceLoneSurrogates(x, fields, `${path}[${i}]`));
  if (v !== null && typeof v === 'object') {
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => {
        let key = k;
        if (!k.isWellFormed()) {
          key = k.toWellFormed();
          note(`${path ? `${path}.` : ''}${key} (key)`);
        }
        return [key, replaceLoneSurrogates(x, fields, path ? `${path}.${key}` : key)];
      }),
    );
  }
  return v;
}

/**
 * JSON.stringify writes a lone surrogate as a lowercase `\udXXX` escape and
 * everything well-formed as itself, so a serialised row without `\ud` holds
 * no lone surrogate. (A literal backslash followed by "ud" also matches; the
 * slow path then finds nothing to replace.)
 */
export function mayHoldLoneSurrogate(line: string): boolean {
  return line.includes('\\ud');
}

/**
 * Names that say a number is a duration (a time span cannot be negative):
 * words duration, latency, elapsed, response_time, rtt as a name part.
 */
const DURATION_NAME = /(?:^|[_.:-])(?:duration|latency|elapsed|response_?time|rtt)(?:[_.:-]|$)/i;
/** Histogram names ending in a time unit (Prometheus naming: http_request_duration_seconds, ..._ms). */
const TIME_UNIT_SUFFIX = /_(?:seconds|secs|ms|milliseconds|us|microseconds|ns|nanoseconds)$/i;

export function isDurationName(name: string, histogram = false): boolean {
  return DURATION_NAME.test(name) || (histogram && TIME_UNIT_SUFFIX.test(name));
}
