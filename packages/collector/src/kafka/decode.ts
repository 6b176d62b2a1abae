import type { KafkaMessage } from 'kafkajs';
import { z } from 'zod';
import { SIGNAL_SPECS, warningRows, type RowOf, type SignalName, type WarningRow } from '../signals';
import { FORMAT_HEADER, ROWS_FORMAT } from './topics';

/** A message (or one item of it) that cannot be landed, with the reason. */
export interface DeadLetter {
  offset: string;
  /** Item position inside the message's array, when only that item is bad. */
  index?: number;
  value: Buffer | string;
  reason: string;
}

export interface Decoded<S extends SignalName> {
  rows: RowOf[S][];
  warnings: WarningRow[];
  dead: DeadLetter[];
  /** Newest received_at among the rows (epoch ms), for end-to-end lag. */
  newestReceivedAt: number;
}

const projectId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/);
const rowsMessage = z.object({ rows: z.array(z.record(z.string(), z.unknown())), warnings: z.array(z.record(z.string(), z.unknown())).default([]) });

function header(m: KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  if (v === undefined) return undefined;
  return Buffer.isBuffer(v) ? v.toString() : Array.isArray(v) ? String(v[0]) : String(v);
}

function chTimeToMs(s: unknown): number {
  return typeof s === 'string' ? Date.parse(`${s.replace(' ', 'T')}Z`) : NaN;
}

/**
 * Turns a batch of messages into rows. Messages the collector wrote carry
 * normalised rows; messages written straight into Kafka carry wire items and
 * are normalised here with the same code the HTTP path uses. Anything that
 * is not valid becomes a dead letter with its reason; the rest lands.
 */
export function decodeMessages<S extends SignalName>(signal: S, messages: KafkaMessage[], futureToleranceMs: number, retentionMs: number): Decoded<S> {
  const spec = SIGNAL_SPECS[signal];
  const out: Decoded<S> = { rows: [], warnings: [], dead: [], newestReceivedAt: 0 };
  for (const m of messages) {
    const value = m.value;
    if (!value) {
      out.dead.push({ offset: m.offset, value: '', reason: 'empty message value' });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch (err) {
      out.dead.push({ offset: m.offset, value, reason: `value is not JSON: ${(err as Error).message}` });
      continue;
    }
    if (header(m, FORMAT_HEADER) === ROWS_FORMAT) {
      const r = rowsMessage.safeParse(parsed);
      if (!r.success) {
        out.dead.push({ offset: m.offset, value, reason: `malformed ${ROWS_FORMAT} message: ${r.error.issues[0]?.message ?? 'invalid'}` });
        continue;
      }
      for (const row of r.data.rows) {
        out.rows.push(row as unknown as RowOf[S]);
        const t = chTimeToMs(row.received_at);
        if (t > out.newestReceivedAt) out.newestReceivedAt = t;
      }
      for (const w of r.data.warnings) out.warnings.push(w as unknown as WarningRow);
      continue;
    }
    // Wire format from a direct producer: one item or an array of items, each naming its project.
    const items = Array.isArray(parsed) ? parsed : [parsed];
    const receivedAt = Number(m.timestamp) || Date.now();
    items.forEach((item, index) => {
      const pid = projectId.safeParse((item as { project_id?: unknown } | null)?.project_id);
      if (!pid.success) {
        out.dead.push({ offset: m.offset, index, value: JSON.stringify(item), reason: 'project_id: missing or not a project id' });
        return;
      }
      const n = spec.normalize(item, { projectId: pid.data, receivedAt, futureToleranceMs, retentionMs });
      if (!n.ok) {
        out.dead.push({ offset: m.offset, index, value: JSON.stringify(item), reason: n.reason });
        return;
      }
      out.rows.push(n.row as RowOf[S]);
      out.warnings.push(...warningRows(signal, n.row as { project_id: string; received_at: string; event_id?: string }, n.warnings));
      if (receivedAt > out.newestReceivedAt) out.newestReceivedAt = receivedAt;
    });
  }
  return out;
}
