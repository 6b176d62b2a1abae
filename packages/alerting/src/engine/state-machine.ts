import { SEVERITY_RANK } from '../rules/schema';
import type { Instance, Observation, StepResult } from '../state/types';

export interface Timing {
  /** Pending period (the rule's `for`, or its NoData/Error period). */
  forMs: number;
  keepFiringForMs: number;
}

function fresh(obs: Observation, now: number): Instance {
  return {
    fingerprint: obs.fingerprint,
    kind: obs.kind,
    labels: obs.labels,
    annotations: obs.annotations,
    state: 'inactive',
    severity: obs.severity,
    peakSeverity: obs.severity,
    value: obs.value,
    episode: 0,
    activeSince: null,
    firedAt: null,
    lastTrueAt: null,
    recoveringSince: null,
    resolvedAt: null,
    lastEvalAt: now,
    lastSentAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    ackComment: null,
  };
}

const firing = (sev: Instance['severity']) => ({ status: 'firing' as const, severity: sev, stateKey: `firing:${sev}` });

/**
 * One evaluation of one instance: a pure function of the previous state, the
 * observation (undefined = the row is gone, i.e. not active) and the time.
 * The engine, the backtest and the unit tests share it, so what a preview
 * shows is what the engine does.
 *
 * Returns undefined when there is nothing to write (an instance that is and
 * stays inactive).
 *
 * Invariants: a notification is produced exactly on entering firing, on a
 * severity change while firing (rise or fall), and on leaving
 * firing/recovering for resolved; a resolve carries the severity and labels
 * the instance last fired with; acknowledgements end with the episode.
 */
export function step(prev: Instance | undefined, obs: Observation | undefined, timing: Timing, now: number): StepResult | undefined {
  const active = obs?.active ?? false;
  if (!prev || prev.state === 'inactive' || prev.state === 'resolved') {
    if (!active || !obs) return undefined;
    const base = prev ?? fresh(obs, now);
    const next: Instance = {
      ...base,
      labels: obs.labels,
      annotations: obs.annotations,
      severity: obs.severity,
      peakSeverity: obs.severity,
      value: obs.value,
      episode: base.episode + 1,
      activeSince: now,
      lastTrueAt: now,
      recoveringSince: null,
      resolvedAt: null,
      firedAt: null,
      lastEvalAt: now,
      acknowledgedAt: null,
      acknowledgedBy: null,
      ackComment: null,
      state: 'pending',
    };
    if (timing.forMs <= 0) {
      next.state = 'firing';
      next.firedAt = now;
      return { from: prev?.state ?? 'inactive', next, transition: true, notify: firing(obs.severity) };
    }
    return { from: prev?.state ?? 'inactive', next, transition: true };
  }

  // An inactive row keeps the labels the instance had while active: with `thresholds` the
  // severity label of a row below every threshold is the rule's default, and the instance's
  // identity for routing (and its resolve) is the severity it fired at.
  const seen: Instance = obs
    ? { ...prev, labels: active ? obs.labels : prev.labels, annotations: active ? obs.annotations : prev.annotations, value: obs.value, lastEvalAt: now }
    : { ...prev, lastEvalAt: now };

  switch (prev.state) {
    case 'pending': {
      if (!active || !obs) return { from: 'pending', next: { ...seen, state: 'inactive', activeSince: null }, transition: true };
      const next: Instance = { ...seen, severity: obs.severity, peakSeverity: obs.severity, lastTrueAt: now };
      if (now - (prev.activeSince ?? now) >= timing.forMs) {
        return { from: 'pending', next: { ...next, state: 'firing', firedAt: now }, transition: true, notify: firing(obs.severity) };
      }
      return { from: 'pending', next, transition: false };
    }
    case 'firing':
    case 'recovering': {
      if (active && obs) {
        const rises = SEVERITY_RANK[obs.severity] > SEVERITY_RANK[prev.peakSeverity];
        // Any severity change while firing is notified (escalation and de-escalation): severity is
        // part of the routing identity, so the routes of the old severity must hear that it ended
        // and the routes of the new one that it started. A rise above the episode's peak keeps the
        // key "firing:SEV"; other changes add the time, so a WARNING → CRITICAL → WARNING episode
        // gets a distinct dedup key for each change (the outbox refuses a repeated key).
        const changed = obs.severity !== prev.severity;
        const notify = rises ? firing(obs.severity) : changed ? { ...firing(obs.severity), stateKey: `firing:${obs.severity}@${now}` } : undefined;
        const next: Instance = {
          ...seen,
          state: 'firing',
          severity: obs.severity,
          peakSeverity: rises ? obs.severity : prev.peakSeverity,
          lastTrueAt: now,
          recoveringSince: null,
        };
        return { from: prev.state, next, transition: prev.state !== 'firing', ...(notify ? { notify } : {}) };
      }
      // Condition no longer holds: keep_firing_for counts from the first evaluation that said so.
      const since = prev.state === 'recovering' ? (prev.recoveringSince ?? now) : now;
      if (timing.keepFiringForMs > 0 && now - since < timing.keepFiringForMs) {
        return { from: prev.state, next: { ...seen, state: 'recovering', recoveringSince: since }, transition: prev.state !== 'recovering' };
      }
      return {
        from: prev.state,
        next: { ...seen, state: 'resolved', resolvedAt: now, recoveringSince: null, acknowledgedAt: null, acknowledgedBy: null, ackComment: null },
        transition: true,
        notify: { status: 'resolved', severity: prev.severity, stateKey: 'resolved' },
      };
    }
  }
}

/** Ends an instance outside evaluation (rule deleted or disabled): firing ones resolve, pending ones go inactive. */
export function retire(prev: Instance, now: number): StepResult | undefined {
  if (prev.state === 'pending') return { from: 'pending', next: { ...prev, state: 'inactive', activeSince: null, lastEvalAt: now }, transition: true };
  if (prev.state === 'firing' || prev.state === 'recovering') {
    return {
      from: prev.state,
      next: {
        ...prev,
        state: 'resolved',
        resolvedAt: now,
        recoveringSince: null,
        lastEvalAt: now,
        acknowledgedAt: null,
        acknowledgedBy: null,
        ackComment: null,
      },
      transition: true,
      notify: { status: 'resolved', severity: prev.severity, stateKey: 'resolved' },
    };
  }
  return undefined;
}
