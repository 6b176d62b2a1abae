import type { TidemarkError } from '@tidemark/core';
import { errorFor, noDataFor, type RuleSpec } from '../rules/schema';
import type { Instance, StepResult } from '../state/types';
import { ERROR_FINGERPRINT, healthObservation, NODATA_FINGERPRINT, observe, type RuleRow } from './evaluate';
import { step } from './state-machine';

/** What running a rule's SQL produced. */
export type EvalOutcome = { ok: true; rows: RuleRow[] } | { ok: false; error: TidemarkError };

/**
 * Every instance's step for one evaluation of a rule. Pure: the engine, the
 * backtest and the tests share it.
 *
 * - A failed query does not touch the rule's alert instances (a ClickHouse
 *   outage must not resolve real alerts); the Error instance goes pending
 *   and fires after error.for.
 * - An empty result with no_data.state=nodata likewise keeps the instances
 *   and drives the NoData instance; with ok it means "all clear"; with
 *   keep_last nothing changes.
 * - Otherwise each row is observed; instances missing from the result are
 *   no longer active.
 */
export function decide(rule: RuleSpec, prev: Map<string, Instance>, outcome: EvalOutcome, now: number): StepResult[] {
  const out: StepResult[] = [];
  const push = (r: StepResult | undefined): void => {
    if (r) out.push(r);
  };
  const health = { forMs: 0, keepFiringForMs: 0 };
  if (!outcome.ok) {
    if (rule.error.state === 'error') {
      push(step(prev.get(ERROR_FINGERPRINT), healthObservation(rule, 'error', true, outcome.error.message), { ...health, forMs: errorFor(rule) }, now));
    }
    return out;
  }
  push(step(prev.get(ERROR_FINGERPRINT), undefined, health, now));
  const rows = outcome.rows;
  if (rows.length === 0 && rule.no_data.state !== 'ok') {
    if (rule.no_data.state === 'nodata')
      push(step(prev.get(NODATA_FINGERPRINT), healthObservation(rule, 'nodata', true), { ...health, forMs: noDataFor(rule) }, now));
    return out;
  }
  push(step(prev.get(NODATA_FINGERPRINT), undefined, health, now));
  const timing = { forMs: rule.for, keepFiringForMs: rule.keep_firing_for };
  const seen = new Set<string>();
  for (const obs of observe(rule, rows)) {
    seen.add(obs.fingerprint);
    push(step(prev.get(obs.fingerprint), obs, timing, now));
  }
  for (const [fp, inst] of prev) {
    if (inst.kind === 'alert' && !seen.has(fp)) push(step(inst, undefined, timing, now));
  }
  return out;
}
