import { z } from 'zod';
import { chTime, correctTime, firstIssue, isDurationName, scalar, scalarMap, timestampInput, type Normalized, type NormalizeContext } from './common';

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/** A metric sample as producers send it. */
export const wireMetric = z.object({
  name: z.string().regex(/^[A-Za-z_:][A-Za-z0-9_:.]{0,199}$/, 'must be a metric name: letters, digits, _ : . (Prometheus style)'),
  value: z.number().finite(),
  type: z.enum(['counter', 'gauge', 'histogram']).default('gauge'),
  labels: z
    .record(z.string().regex(LABEL_NAME, 'label names are letters, digits, _ . : -'), scalar)
    .refine((l) => Object.keys(l).length <= 32, 'at most 32 labels')
    .optional(),
  timestamp: timestampInput.optional(),
  sent_at: timestampInput.optional(),
  project_id: z.string().max(64).optional(),
});

/** A row of metrics_raw_v1. */
export interface MetricRow {
  project_id: string;
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: Record<string, string>;
  labels_key: string;
  value: number;
  timestamp: string;
  received_at: string;
}

/** Canonical series identity: labels sorted by name. */
export function labelsKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

export function normalizeMetric(input: unknown, ctx: NormalizeContext): Normalized<MetricRow> {
  const parsed = wireMetric.safeParse(input);
  if (!parsed.success) return { ok: false, reason: firstIssue(parsed.error) };
  const m = parsed.data;
  // A counter only goes up and a duration is never negative: such a value is
  // a producer bug, and storing it would pull sums and rates below zero.
  if (m.value < 0 && m.type === 'counter')
    return { ok: false, reason: `value: a counter cannot be negative (got ${m.value}); send a gauge for values that can fall` };
  if (m.value < 0 && isDurationName(m.name, m.type === 'histogram'))
    return { ok: false, reason: `value: ${m.name} is a duration and cannot be negative (got ${m.value})` };
  const time = correctTime(ctx, m.timestamp, m.sent_at);
  if ('error' in time) return { ok: false, reason: time.error };
  const labels = scalarMap(m.labels);
  return {
    ok: true,
    warnings: time.warnings,
    row: {
      project_id: ctx.projectId,
      name: m.name,
      type: m.type,
      labels,
      labels_key: labelsKey(labels),
      value: m.value,
      timestamp: chTime(time.ms),
      received_at: chTime(ctx.receivedAt),
    },
  };
}

export const METRIC_COLUMNS: readonly (keyof MetricRow)[] = ['project_id', 'name', 'type', 'labels', 'labels_key', 'value', 'timestamp', 'received_at'];

export function metricKey(row: MetricRow): string {
  return `${row.project_id}:${row.name}:${row.labels_key}`;
}
