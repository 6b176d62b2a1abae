import type { ClickHouse } from '@tidemark/core';
import { classifyError, ValidationError } from '@tidemark/core';
import type { RuleSpec, Severity } from '../rules/schema';
import type { AlertState, Instance, InstanceKind } from '../state/types';
import { decide, type EvalOutcome } from './decide';
import { effectiveTimeout, runRule } from './evaluate';

export interface BacktestTransition {
  at: string;
  fingerprint: string;
  kind: InstanceKind;
  labels: Record<string, string>;
  from: AlertState;
  to: AlertState;
  value: number | null;
  severity: Severity;
}

/** One would-be incident: when it went pending, fired and resolved (null: still open at the end). */
export interface BacktestEpisode {
  fingerprint: string;
  kind: InstanceKind;
  labels: Record<string, string>;
  pendingAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  peakSeverity: Severity;
}

export interface BacktestResult {
  from: string;
  to: string;
  stepMs: number;
  evaluations: number;
  transitions: BacktestTransition[];
  episodes: BacktestEpisode[];
  errors: { at: string; message: string }[];
  warnings: string[];
}

export const MAX_BACKTEST_EVALUATIONS = 2000;

/**
 * Evaluates a rule at every step of a past window, as the engine would have
 * at those times (the rule's SQL runs with {now} = each step), through the
 * same decide/step functions, in memory: nothing is stored and nothing is
 * sent. Shows when the rule would have gone pending, fired and resolved.
 */
export async function backtest(
  ro: ClickHouse,
  rule: RuleSpec,
  projectId: string,
  opts: { from: number; to: number; stepMs?: number; queryTimeoutCapMs: number; maxRows: number; concurrency?: number },
): Promise<BacktestResult> {
  const stepMs = opts.stepMs ?? rule.interval;
  if (opts.to <= opts.from) throw new ValidationError('preview: "to" must be after "from"', { context: { issues: [{ path: 'to', message: 'must be after from' }] } });
  const count = Math.floor((opts.to - opts.from) / stepMs) + 1;
  if (count > MAX_BACKTEST_EVALUATIONS) {
    throw new ValidationError(`preview: ${count} evaluations (window / step); at most ${MAX_BACKTEST_EVALUATIONS}: shorten the window or raise the step`, {
      context: { issues: [{ path: 'step', message: `gives ${count} evaluations` }] },
    });
  }
  const warnings: string[] = [];
  if (!/\{now\s*:/.test(rule.sql)) warnings.push('the SQL does not use {now:...}: every step sees the data of the present, so the backtest only repeats today\'s answer');
  const times = Array.from({ length: count }, (_, i) => opts.from + i * stepMs);
  const outcomes: EvalOutcome[] = new Array<EvalOutcome>(count);
  let next = 0;
  const limits = { timeoutMs: effectiveTimeout(rule, opts.queryTimeoutCapMs), maxRows: opts.maxRows };
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        outcomes[i] = { ok: true, rows: await runRule(ro, rule, projectId, times[i] as number, limits) };
      } catch (err) {
        outcomes[i] = { ok: false, error: classifyError(err, 'clickhouse') };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, count) }, worker));

  const state = new Map<string, Instance>();
  const transitions: BacktestTransition[] = [];
  const episodes: BacktestEpisode[] = [];
  const open = new Map<string, BacktestEpisode>();
  const errors: BacktestResult['errors'] = [];
  times.forEach((t, i) => {
    const outcome = outcomes[i] as EvalOutcome;
    const at = new Date(t).toISOString();
    if (!outcome.ok) errors.push({ at, message: outcome.error.message });
    for (const r of decide(rule, state, outcome, t)) {
      state.set(r.next.fingerprint, r.next);
      if (!r.transition) {
        const ep = open.get(r.next.fingerprint);
        if (ep) ep.peakSeverity = r.next.peakSeverity;
        continue;
      }
      const n = r.next;
      transitions.push({ at, fingerprint: n.fingerprint, kind: n.kind, labels: n.labels, from: r.from, to: n.state, value: n.value, severity: n.severity });
      if (n.state === 'pending' || (n.state === 'firing' && !open.has(n.fingerprint))) {
        const ep: BacktestEpisode = { fingerprint: n.fingerprint, kind: n.kind, labels: n.labels, pendingAt: at, firedAt: n.state === 'firing' ? at : null, resolvedAt: null, peakSeverity: n.peakSeverity };
        open.set(n.fingerprint, ep);
        episodes.push(ep);
      } else if (n.state === 'firing') {
        const ep = open.get(n.fingerprint) as BacktestEpisode;
        ep.firedAt ??= at;
        ep.peakSeverity = n.peakSeverity;
      } else if (n.state === 'resolved' || n.state === 'inactive') {
        const ep = open.get(n.fingerprint);
        if (ep) {
          if (n.state === 'resolved') ep.resolvedAt = at;
          else episodes.splice(episodes.indexOf(ep), 1); // a pending period that never fired is not an incident
          open.delete(n.fingerprint);
        }
      }
    }
  });
  return { from: new Date(opts.from).toISOString(), to: new Date(opts.to).toISOString(), stepMs, evaluations: count, transitions, episodes, errors, warnings };
}
