import type { Severity } from '../rules/schema';

/**
 * inactive → pending → firing → (recovering) → resolved, per alert instance.
 * inactive: a pending period that ended without firing (or never started).
 * recovering: firing, condition false, held by keep_firing_for.
 * resolved: the episode is over; the next activation starts episode + 1.
 */
export const ALERT_STATES = ['inactive', 'pending', 'firing', 'recovering', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** alert: a row of the rule's result; nodata/error: the rule's own NoData and Error instances. */
export const INSTANCE_KINDS = ['alert', 'nodata', 'error'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

export interface Instance {
  fingerprint: string;
  kind: InstanceKind;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState;
  severity: Severity;
  /** Highest severity notified in this episode. */
  peakSeverity: Severity;
  value: number | null;
  episode: number;
  /** Start of the current activation (Prometheus ActiveAt); the `for` clock. */
  activeSince: number | null;
  firedAt: number | null;
  lastTrueAt: number | null;
  recoveringSince: number | null;
  resolvedAt: number | null;
  lastEvalAt: number;
  lastSentAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
}

/** What one evaluation says about one instance. */
export interface Observation {
  fingerprint: string;
  kind: InstanceKind;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  active: boolean;
  severity: Severity;
  value: number | null;
}

/** A notifiable change, queued in the outbox with the state change. */
export interface Notify {
  status: 'firing' | 'resolved';
  severity: Severity;
  /** State part of the dedup key: "firing:CRITICAL" or "resolved". */
  stateKey: string;
}

export interface StepResult {
  from: AlertState;
  next: Instance;
  /** The state changed (a history row is written). */
  transition: boolean;
  notify?: Notify;
}

export const ACTIVE_STATES: readonly AlertState[] = ['pending', 'firing', 'recovering'];
