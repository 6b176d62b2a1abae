/** Alert rule helpers of the Alerts page: pure functions, unit-tested. */
// Core's parser module itself (it has no imports): the rule was validated with it, and core's index is Node-only.
import { parseDuration } from '../../core/src/util/duration';
import type { PreviewResult } from './alerts-api';
import type { LineSeries } from './chart-types';

/** Milliseconds of a rule's interval as stored (a number, or text such as "30s", "1m30s"). */
export function durationMs(v: number | string | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return null;
  return parseDuration(v) ?? null;
}

const STATE_LEVEL: Record<string, number> = { inactive: 0, resolved: 0, pending: 1, recovering: 1, firing: 2 };

/** The backtest as state-over-time series, one per instance (up to 6), sampled at every evaluation. */
export function previewSeries(r: PreviewResult, ruleLabels: Record<string, string> = {}): { xs: number[]; series: LineSeries[] } {
  const from = Date.parse(r.from);
  const to = Date.parse(r.to);
  const xs: number[] = [];
  for (let t = from; t <= to && xs.length < 5000; t += r.stepMs) xs.push(t);
  const byInstance = new Map<string, { label: string; changes: { at: number; level: number }[] }>();
  for (const t of r.transitions) {
    const label = Object.entries(t.labels)
      // The row's own labels tell instances apart; alertname, severity and the rule's fixed labels are the same on all.
      .filter(([k]) => k !== 'alertname' && k !== 'severity' && !(k in ruleLabels))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const e = byInstance.get(t.fingerprint) ?? { label: label || 'rule', changes: [] };
    e.changes.push({ at: Date.parse(t.at), level: STATE_LEVEL[t.to] ?? 0 });
    byInstance.set(t.fingerprint, e);
  }
  const series = [...byInstance.values()].slice(0, 6).map((inst) => {
    const changes = inst.changes.sort((a, b) => a.at - b.at);
    let i = 0;
    let level = 0;
    return {
      label: inst.label,
      values: xs.map((x) => {
        while (i < changes.length && changes[i]!.at <= x) level = changes[i++]!.level;
        return level;
      }),
    };
  });
  return { xs, series };
}
