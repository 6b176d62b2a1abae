import { ValidationError } from '@tidemark/core';
import { jsonDepth, parseTimestamp, type NormalizeContext } from './common';

/** Deepest JSON a request body may have; items have tighter limits of their own. */
const MAX_BODY_DEPTH = 64;
import { normalizeItem, warningRows, type RowOf, type SignalName, type WarningRow } from './index';

/** One refused item of a batch: its position and why. */
export interface RowError {
  index: number;
  reason: string;
}

export interface ParsedBatch {
  items: unknown[];
  /** Items that were not even JSON (NDJSON lines), by index. */
  errors: RowError[];
  /** Batch-level client send time, for skew correction. */
  sentAt?: number;
}

/**
 * Reads a request body in any accepted shape:
 * - a JSON array of items,
 * - an envelope `{ "sent_at": ..., "batch": [...] }` (or `events`/`metrics`/`logs` for the array),
 * - one JSON object (a single item),
 * - NDJSON (Content-Type application/x-ndjson or application/jsonl): one item per line;
 *   a line that is not JSON is refused alone, the others go on.
 *
 * @throws ValidationError when the body as a whole is not one of these.
 */
export function parseBatch(text: string, contentType: string, signal: SignalName): ParsedBatch {
  if (/ndjson|jsonl|jsonlines/i.test(contentType)) {
    const items: unknown[] = [];
    const errors: RowError[] = [];
    const lines = text.split('\n');
    let index = 0;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const item: unknown = JSON.parse(line);
        if (jsonDepth(item, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) throw new Error(`nested more than ${MAX_BODY_DEPTH} levels`);
        items.push(item);
      } catch (err) {
        items.push(undefined);
        errors.push({ index, reason: `line is not valid JSON: ${(err as Error).message}` });
      }
      index++;
    }
    return { items, errors };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    // Deep nesting overflows the parser's stack: still a malformed request, not a crash.
    const msg = err instanceof RangeError ? 'JSON is nested too deeply' : (err as Error).message;
    throw new ValidationError(`request body is not valid JSON: ${msg}`);
  }
  // Checked before anything walks the value recursively (size checks, validation).
  if (jsonDepth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) throw new ValidationError(`JSON is nested too deeply (more than ${MAX_BODY_DEPTH} levels)`);
  if (Array.isArray(body)) return { items: body, errors: [] };
  if (body !== null && typeof body === 'object') {
    const env = body as Record<string, unknown>;
    const list = env.batch ?? env[signal];
    if (list !== undefined) {
      if (!Array.isArray(list)) throw new ValidationError(`"${env.batch !== undefined ? 'batch' : signal}" must be an array`);
      let sentAt: number | undefined;
      if (env.sent_at !== undefined) {
        sentAt = typeof env.sent_at === 'string' || typeof env.sent_at === 'number' ? parseTimestamp(env.sent_at) : undefined;
        if (sentAt === undefined) throw new ValidationError('"sent_at" must be an ISO 8601 date or epoch milliseconds');
      }
      return { items: list, errors: [], ...(sentAt !== undefined ? { sentAt } : {}) };
    }
    return { items: [body], errors: [] };
  }
  throw new ValidationError(`request body must be a JSON array, an object, or NDJSON; got ${body === null ? 'null' : typeof body}`);
}

export interface NormalizedBatch<S extends SignalName> {
  rows: RowOf[S][];
  /** Each row as its JSONCompactEachRow line (what is stored and sent to Kafka), serialised once here. */
  lines: string[];
  /** Each row's item index in the request. */
  indexes: number[];
  warnings: WarningRow[];
  rejected: RowError[];
}

/** Validates and normalises every item; a bad item is refused alone with its index and reason. */
export function normalizeBatch<S extends SignalName>(signal: S, parsed: ParsedBatch, ctx: NormalizeContext): NormalizedBatch<S> {
  const rows: RowOf[S][] = [];
  const lines: string[] = [];
  const indexes: number[] = [];
  const warnings: WarningRow[] = [];
  const rejected: RowError[] = [...parsed.errors];
  const bad = new Set(parsed.errors.map((e) => e.index));
  const c = parsed.sentAt !== undefined ? { ...ctx, sentAt: parsed.sentAt } : ctx;
  parsed.items.forEach((item, index) => {
    if (bad.has(index)) return;
    const n = normalizeItem(signal, item, c);
    if (!n.ok) {
      rejected.push({ index, reason: n.reason });
      return;
    }
    rows.push(n.row);
    lines.push(n.line);
    indexes.push(index);
    if (n.warnings.length > 0) warnings.push(...warningRows(signal, n.row as { project_id: string; received_at: string; event_id?: string }, n.warnings));
  });
  rejected.sort((a, b) => a.index - b.index);
  return { rows, lines, indexes, warnings, rejected };
}
