import type { ConsumedRecord } from '@tidemark/core';
import { z } from 'zod';
import { compactLine, jsonDepth, normalizeItem, SIGNAL_SPECS, WARNING_COLUMNS, WARNINGS_TABLE, warningRows, type SignalName } from '../signals';
import { COLUMNS_HEADER, FORMAT_HEADER, RECEIVED_AT_HEADER, ROWS_FORMAT, WARNINGS_FORMAT } from './topics';

/** A message (or one item of it) that cannot be landed, with the reason. */
export interface DeadLetter {
  offset: string;
  /** Item position inside the message's array, when only that item is bad. */
  index?: number;
  value: Buffer | string;
  reason: string;
}

/**
 * Rows of one message as JSONCompactEachRow text: `rows` newline-terminated
 * lines. Pieces are what a refused insert is split into (first by message,
 * then by line) to find the rows ClickHouse will not take.
 */
export interface Piece {
  offset: string;
  rows: number;
  data: Buffer | string;
}

/** Pieces bound for one table with one column list. */
export interface InsertGroup {
  table: string;
  columns: readonly string[];
  pieces: Piece[];
}

export interface Decoded {
  /** In a deterministic order (first appearance in the batch), so a replay derives the same tokens. */
  groups: InsertGroup[];
  dead: DeadLetter[];
  rows: number;
  /** Newest receive time among the rows (epoch ms), for end-to-end lag. */
  newestReceivedAt: number;
  /** Project ids named by the batch's wire-format items, for the caller to check they exist. */
  projects: Set<string>;
}

/** What decodeMessages checks beyond the item validation. */
export interface DecodeOptions {
  /** Largest stored row (its JSONCompactEachRow line, UTF-8 bytes), the HTTP path's COLLECTOR_MAX_ITEM_BYTES. */
  maxItemBytes?: number;
  /** Project ids that do not exist: their items are dead-lettered, as HTTP refuses a key of an unknown project. */
  unknownProjects?: ReadonlySet<string>;
}

/** COLLECTOR_MAX_ITEM_BYTES' default: a direct producer's item is held to the HTTP path's limit. */
export const DEFAULT_MAX_ITEM_BYTES = 256 * 1024;

/** Dead-letter reason of an item whose stored row is over the per-item limit; HTTP's 413 names the same limit in the same words. */
export function oversizedReason(size: number, maxItemBytes: number): string {
  return `item exceeds the limit of ${maxItemBytes} bytes per item as stored (${size} bytes)`;
}

/** Dead-letter reason of an item naming a project that does not exist. */
export function unknownProjectReason(project: string): string {
  return `project_id: no project "${project}" exists`;
}

/** The HTTP path's limits, applied to direct producers' messages too (one validation for every path). */
const MAX_DEPTH = 64;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const projectId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/);

function header(m: ConsumedRecord, name: string): string | undefined {
  const v = m.headers?.[name];
  if (v === undefined) return undefined;
  return Buffer.isBuffer(v) ? v.toString() : Array.isArray(v) ? String(v[0]) : String(v);
}

/**
 * The text of each element of a JSON array, exactly as it was written
 * (`text` is known to be valid JSON whose top level is an array). A dead
 * letter carries its item as the producer wrote it, not re-serialised:
 * JSON.stringify would turn 1e400 into null and round large integers,
 * destroying the evidence of why the item was refused.
 */
export function arrayItemTexts(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote (a backslash escapes the next character).
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (depth++ === 0) from = i + 1;
    } else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) {
        const last = text.slice(from, i).trim();
        if (last !== '' || out.length > 0) out.push(last);
        break;
      }
    } else if (c === 0x2c && depth === 1) {
      out.push(text.slice(from, i).trim());
      from = i + 1;
    }
  }
  return out;
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * Turns a batch of messages into insert groups. Messages the collector wrote
 * (rows-v2, warnings-v2) already hold insert-ready lines and go in as they
 * are, unparsed; ClickHouse is their validator, and a refused insert is
 * split until the refused lines are found. Messages written straight into
 * Kafka carry wire items and are normalised here with the same code the HTTP
 * path uses. Anything that cannot land becomes a dead letter with its reason.
 */
export function decodeMessages(
  signal: SignalName,
  messages: ConsumedRecord[],
  futureToleranceMs: number,
  retentionMs: number,
  options: DecodeOptions = {},
): Decoded {
  const spec = SIGNAL_SPECS[signal];
  const maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
  const allowed: Record<string, { table: string; columns: ReadonlySet<string> }> = {
    [ROWS_FORMAT]: { table: spec.table, columns: new Set(spec.columns) },
    [WARNINGS_FORMAT]: { table: WARNINGS_TABLE, columns: new Set(WARNING_COLUMNS) },
  };
  const out: Decoded = { groups: [], dead: [], rows: 0, newestReceivedAt: 0, projects: new Set() };
  const byKey = new Map<string, InsertGroup>();
  const add = (table: string, columns: readonly string[], piece: Piece): void => {
    const key = `${table}(${columns.join(',')})`;
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { table, columns, pieces: [] }));
    g.pieces.push(piece);
    if (table !== WARNINGS_TABLE) out.rows += piece.rows;
  };
  const seen = (ms: number): void => {
    if (ms > out.newestReceivedAt) out.newestReceivedAt = ms;
  };

  for (const m of messages) {
    const value = m.value;
    if (!value || value.length === 0) {
      out.dead.push({ offset: m.offset, value: '', reason: 'empty message value' });
      continue;
    }
    const format = header(m, FORMAT_HEADER);
    if (format !== undefined) {
      const target = allowed[format];
      if (!target) {
        out.dead.push({
          offset: m.offset,
          value,
          reason: `unknown ${FORMAT_HEADER} "${format.slice(0, 40)}" (this consumer reads ${Object.keys(allowed).join(', ')} or the wire format)`,
        });
        continue;
      }
      const columns = (header(m, COLUMNS_HEADER) ?? '').split(',');
      const unknown = columns.filter((c) => !target.columns.has(c));
      if (unknown.length > 0) {
        out.dead.push({
          offset: m.offset,
          value,
          reason: `${COLUMNS_HEADER} names columns ${target.table} does not have: ${unknown.join(', ').slice(0, 200)}`,
        });
        continue;
      }
      if (value[value.length - 1] !== 10) {
        out.dead.push({ offset: m.offset, value, reason: `${format} value does not end with a newline (truncated?)` });
        continue;
      }
      add(target.table, columns, { offset: m.offset, rows: countLines(value), data: value });
      seen(Number(header(m, RECEIVED_AT_HEADER)) || 0);
      continue;
    }
    // Wire format from a direct producer: one item or an array of items, each naming its project.
    // Invalid UTF-8 is refused as the HTTP path refuses it (400 there), not
    // silently turned into U+FFFD by a lenient decode.
    let text: string;
    try {
      text = strictUtf8.decode(value);
    } catch {
      out.dead.push({ offset: m.offset, value, reason: 'message value is not valid UTF-8' });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const msg = err instanceof RangeError ? 'JSON is nested too deeply' : (err as Error).message;
      out.dead.push({ offset: m.offset, value, reason: `value is not JSON: ${msg}` });
      continue;
    }
    if (jsonDepth(parsed, MAX_DEPTH) > MAX_DEPTH) {
      out.dead.push({ offset: m.offset, value, reason: `JSON is nested too deeply (more than ${MAX_DEPTH} levels)` });
      continue;
    }
    const isArray = Array.isArray(parsed);
    const items: unknown[] = isArray ? (parsed as unknown[]) : [parsed];
    // The original text of each item, for its dead letter (a single item is the whole value).
    let texts: string[] | undefined;
    const original = (index: number): Buffer | string => {
      if (!isArray) return value;
      texts ??= arrayItemTexts(text);
      return texts.length === items.length ? texts[index]! : JSON.stringify(items[index]);
    };
    const receivedAt = Number(m.timestamp) || Date.now();
    const lines: string[] = [];
    const warnings: string[] = [];
    items.forEach((item, i) => {
      const index = isArray ? i : undefined;
      const refuse = (reason: string): void => {
        out.dead.push({ offset: m.offset, ...(index !== undefined ? { index } : {}), value: original(i), reason });
      };
      const pid = projectId.safeParse((item as { project_id?: unknown } | null)?.project_id);
      if (!pid.success) return refuse('project_id: missing or not a project id');
      out.projects.add(pid.data);
      // Checked before the item itself, as HTTP checks the key before the body.
      if (options.unknownProjects?.has(pid.data)) return refuse(unknownProjectReason(pid.data));
      const n = normalizeItem(signal, item, { projectId: pid.data, receivedAt, futureToleranceMs, retentionMs });
      if (!n.ok) return refuse(n.reason);
      // The HTTP path's per-item cap, on the same thing (the stored row's line); a UTF-8
      // line is at most 3 bytes per UTF-16 unit, which skips the count for nearly every row.
      if (n.line.length * 3 > maxItemBytes) {
        const size = Buffer.byteLength(n.line);
        if (size > maxItemBytes) return refuse(oversizedReason(size, maxItemBytes));
      }
      lines.push(n.line);
      for (const w of warningRows(signal, n.row as { project_id: string; received_at: string; event_id?: string }, n.warnings))
        warnings.push(compactLine(WARNING_COLUMNS, w));
    });
    if (lines.length > 0) {
      add(spec.table, spec.columns, { offset: m.offset, rows: lines.length, data: lines.join('') });
      seen(receivedAt);
    }
    if (warnings.length > 0) add(WARNINGS_TABLE, WARNING_COLUMNS, { offset: m.offset, rows: warnings.length, data: warnings.join('') });
  }
  out.groups = [...byKey.values()];
  return out;
}

/** Splits a piece of several lines into two pieces of about half the lines each. */
export function splitPiece(p: Piece): [Piece, Piece] {
  const text = typeof p.data === 'string' ? p.data : p.data.toString('utf8');
  const lines = text.split('\n');
  lines.pop(); // after the final newline
  const mid = Math.ceil(lines.length / 2);
  const part = (ls: string[]): Piece => ({ offset: p.offset, rows: ls.length, data: `${ls.join('\n')}\n` });
  return [part(lines.slice(0, mid)), part(lines.slice(mid))];
}
