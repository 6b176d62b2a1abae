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

/**
 * Caps of one preview, so a read key cannot hold the engine: at most this
 * many evaluations, each with at most PREVIEW_QUERY_TIMEOUT_MS, and all of
 * them together at most PREVIEW_QUERY_BUDGET_MS of query time (a
 * relative-change rule costs two queries per evaluation). Worst case per
 * preview: the budget plus one timeout per worker.
 */
export const MAX_BACKTEST_EVALUATIONS = 500;
export const PREVIEW_QUERY_TIMEOUT_MS = 10_000;
export const PREVIEW_QUERY_BUDGET_MS = 60_000;

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
  opts: {
    from: number;
    to: number;
    stepMs?: number;
    queryTimeoutCapMs: number;
    maxRows: number;
    concurrency?: number;
    maxEvaluations?: number;
    queryBudgetMs?: number;
  },
): Promise<BacktestResult> {
  const stepMs = opts.stepMs ?? rule.interval;
  if (!Number.isFinite(opts.from) || !Number.isFinite(opts.to))
    throw new ValidationError('preview: "from" and "to" must be valid times', { context: { issues: [{ path: 'from', message: 'not a valid time' }] } });
  if (opts.to <= opts.from)
    throw new ValidationError('preview: "to" must be after "from"', { context: { issues: [{ path: 'to', message: 'must be after from' }] } });
  const count = Math.floor((opts.to - opts.from) / stepMs) + 1;
  const maxEvaluations = opts.maxEvaluations ?? MAX_BACKTEST_EVALUATIONS;
  if (count > maxEvaluations) {
    throw new ValidationError(`preview: ${count} evaluations (window / step); at most ${maxEvaluations}: shorten the window or raise the step`, {
      context: { issues: [{ path: 'step', message: `gives ${count} evaluations` }] },
    });
  }
  const budgetMs = opts.queryBudgetMs ?? PREVIEW_QUERY_BUDGET_MS;
  let spentMs = 0;
  let overBudget: number | undefined;
  const warnings: string[] = [];
  if (!/\{now\s*:/.test(rule.sql))
    warnings.push("the SQL does not use {now:...}: every step sees the data of the present, so the backtest only repeats today's answer");
  const times = Array.from({ length: count }, (_, i) => opts.from + i * stepMs);
  const outcomes: EvalOutcome[] = new Array<EvalOutcome>(count);
  let next = 0;
  const limits = { timeoutMs: Math.min(effectiveTimeout(rule, opts.queryTimeoutCapMs), PREVIEW_QUERY_TIMEOUT_MS), maxRows: opts.maxRows };
  const worker = async (): Promise<void> => {
    while (next < count && overBudget === undefined) {
      const i = next++;
      const started = Date.now();
      try {
        outcomes[i] = { ok: true, rows: await runRule(ro, rule, projectId, times[i] as number, limits) };
      } catch (err) {
        outcomes[i] = { ok: false, error: classifyError(err, 'clickhouse') };
      }
      spentMs += Date.now() - started;
      if (spentMs > budgetMs && overBudget === undefined) overBudget = i + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, count) }, worker));
  if (overBudget !== undefined) {
    throw new ValidationError(
      `preview: the rule's queries used more than ${budgetMs / 1000} s after ${overBudget} of ${count} evaluations; shorten the window, raise the step or make the query cheaper`,
      { context: { issues: [{ path: 'step', message: `${count} evaluations exceed the query time budget` }] } },
    );
  }

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
        const ep: BacktestEpisode = {
          fingerprint: n.fingerprint,
          kind: n.kind,
          labels: n.labels,
          pendingAt: at,
          firedAt: n.state === 'firing' ? at : null,
          resolvedAt: null,
          peakSeverity: n.peakSeverity,
        };
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
