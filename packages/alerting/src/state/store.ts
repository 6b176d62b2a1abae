import { z } from 'zod';
import { pgExec, pgRows, type Queryable } from '@tidemark/core';
import { hashParts } from '../util/hash';
import { kindColumn, severityColumn, stateColumn, stringMapColumn } from './columns';
import type { Instance, StepResult } from './types';

/**
 * Reads and writes of alert state, history and the outbox. Every function
 * takes a client inside the caller's transaction: a state change, its
 * history row and its pending notification commit together or not at all.
 */

/** A row of alert_instances as INSTANCE_COLUMNS reads it. */
export const instanceRow = z.object({
  fingerprint: z.string(),
  kind: kindColumn,
  labels: stringMapColumn,
  annotations: stringMapColumn,
  state: stateColumn,
  severity: severityColumn,
  peak_severity: severityColumn,
  value: z.number().nullable(),
  episode: z.number(),
  active_since: z.date().nullable(),
  fired_at: z.date().nullable(),
  last_true_at: z.date().nullable(),
  recovering_since: z.date().nullable(),
  resolved_at: z.date().nullable(),
  last_eval_at: z.date(),
  last_sent_at: z.date().nullable(),
  acknowledged_at: z.date().nullable(),
  acknowledged_by: z.string().nullable(),
  ack_comment: z.string().nullable(),
});
type InstanceRow = z.output<typeof instanceRow>;

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

function rowToInstance(r: InstanceRow): Instance {
  return {
    fingerprint: r.fingerprint,
    kind: r.kind,
    labels: r.labels,
    annotations: r.annotations,
    state: r.state,
    severity: r.severity,
    peakSeverity: r.peak_severity,
    value: r.value,
    episode: r.episode,
    activeSince: ms(r.active_since),
    firedAt: ms(r.fired_at),
    lastTrueAt: ms(r.last_true_at),
    recoveringSince: ms(r.recovering_since),
    resolvedAt: ms(r.resolved_at),
    lastEvalAt: r.last_eval_at.getTime(),
    lastSentAt: ms(r.last_sent_at),
    acknowledgedAt: ms(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    ackComment: r.ack_comment,
  };
}

const INSTANCE_COLUMNS = `fingerprint, kind, labels, annotations, state, severity, peak_severity, value, episode, active_since, fired_at,
  last_true_at, recovering_since, resolved_at, last_eval_at, last_sent_at, acknowledged_at, acknowledged_by, ack_comment`;

/** The rule's instances, locked for this transaction. */
const LOCK_INSTANCES = {
  name: 'lockInstances',
  sql: `SELECT ${INSTANCE_COLUMNS} FROM alert_instances WHERE project_id = $1 AND rule_name = $2 FOR UPDATE`,
  row: instanceRow,
};

export async function loadInstances(client: Queryable, projectId: string, ruleName: string): Promise<Map<string, Instance>> {
  const rows = await pgRows(client, LOCK_INSTANCES, [projectId, ruleName]);
  return new Map(rows.map((r) => [r.fingerprint, rowToInstance(r)]));
}

const LOCK_ACTIVE_INSTANCES = {
  name: 'lockActiveInstances',
  sql: `SELECT ${INSTANCE_COLUMNS} FROM alert_instances WHERE project_id = $1 AND rule_name = $2 AND state IN ('pending', 'firing', 'recovering') FOR UPDATE`,
  row: instanceRow,
};

/** The rule's active (pending, firing, recovering) instances, locked for this transaction. */
export async function loadActiveInstances(client: Queryable, projectId: string, ruleName: string): Promise<Instance[]> {
  const rows = await pgRows(client, LOCK_ACTIVE_INSTANCES, [projectId, ruleName]);
  return rows.map(rowToInstance);
}

/** hash(project, rule, fingerprint, state, episode): the key a receiver deduplicates on. */
export function dedupKey(projectId: string, ruleName: string, fingerprint: string, stateKey: string, episode: number): string {
  return hashParts(projectId, ruleName, fingerprint, stateKey, episode).slice(0, 40);
}

/**
 * Writes the results of one evaluation (or retirement): instance rows,
 * history rows for transitions, and outbox events for notifications, as
 * three statements in the caller's transaction.
 */
export async function applySteps(
  client: Queryable,
  projectId: string,
  ruleName: string,
  results: StepResult[],
  now: number,
  detail?: string,
): Promise<{ transitions: number; events: number }> {
  if (results.length === 0) return { transitions: 0, events: 0 };
  const nowIso = new Date(now).toISOString();
  const inst = results.map(({ next: i }) => ({
    project_id: projectId,
    rule_name: ruleName,
    fingerprint: i.fingerprint,
    kind: i.kind,
    labels: i.labels,
    annotations: i.annotations,
    state: i.state,
    severity: i.severity,
    peak_severity: i.peakSeverity,
    value: i.value,
    episode: i.episode,
    active_since: iso(i.activeSince),
    fired_at: iso(i.firedAt),
    last_true_at: iso(i.lastTrueAt),
    recovering_since: iso(i.recoveringSince),
    resolved_at: iso(i.resolvedAt),
    last_eval_at: iso(i.lastEvalAt),
    last_sent_at: iso(i.lastSentAt),
    acknowledged_at: iso(i.acknowledgedAt),
    acknowledged_by: i.acknowledgedBy,
    ack_comment: i.ackComment,
    updated_at: nowIso,
  }));
  await pgExec(
    client,
    `INSERT INTO alert_instances (project_id, rule_name, ${INSTANCE_COLUMNS}, updated_at)
     SELECT project_id, rule_name, ${INSTANCE_COLUMNS}, updated_at FROM jsonb_to_recordset($1::jsonb) AS x(
       project_id text, rule_name text, fingerprint text, kind text, labels jsonb, annotations jsonb, state text, severity text,
       peak_severity text, value double precision, episode integer, active_since timestamptz, fired_at timestamptz,
       last_true_at timestamptz, recovering_since timestamptz, resolved_at timestamptz, last_eval_at timestamptz,
       last_sent_at timestamptz, acknowledged_at timestamptz, acknowledged_by text, ack_comment text, updated_at timestamptz)
     ON CONFLICT (project_id, rule_name, fingerprint) DO UPDATE SET
       kind = EXCLUDED.kind, labels = EXCLUDED.labels, annotations = EXCLUDED.annotations, state = EXCLUDED.state,
       severity = EXCLUDED.severity, peak_severity = EXCLUDED.peak_severity, value = EXCLUDED.value, episode = EXCLUDED.episode,
       active_since = EXCLUDED.active_since, fired_at = EXCLUDED.fired_at, last_true_at = EXCLUDED.last_true_at,
       recovering_since = EXCLUDED.recovering_since, resolved_at = EXCLUDED.resolved_at, last_eval_at = EXCLUDED.last_eval_at,
       acknowledged_at = EXCLUDED.acknowledged_at, acknowledged_by = EXCLUDED.acknowledged_by, ack_comment = EXCLUDED.ack_comment,
       updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(inst)],
  );
  const hist = results
    .filter((r) => r.transition)
    .map((r) => ({
      project_id: projectId,
      rule_name: ruleName,
      fingerprint: r.next.fingerprint,
      kind: r.next.kind,
      labels: r.next.labels,
      from_state: r.from,
      to_state: r.next.state,
      severity: r.next.severity,
      value: r.next.value,
      episode: r.next.episode,
      at: nowIso,
      detail: detail ?? (r.next.kind === 'error' ? (r.next.annotations.error ?? null) : null),
    }));
  if (hist.length > 0) {
    await pgExec(
      client,
      `INSERT INTO alert_history (project_id, rule_name, fingerprint, kind, labels, from_state, to_state, severity, value, episode, at, detail)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(project_id text, rule_name text, fingerprint text, kind text, labels jsonb,
         from_state text, to_state text, severity text, value double precision, episode integer, at timestamptz, detail text)`,
      [JSON.stringify(hist)],
    );
  }
  const events = results
    .filter((r) => r.notify)
    .map(({ next: i, notify }) => ({
      project_id: projectId,
      rule_name: ruleName,
      fingerprint: i.fingerprint,
      kind: i.kind,
      status: notify?.status,
      severity: notify?.severity,
      episode: i.episode,
      dedup_key: dedupKey(projectId, ruleName, i.fingerprint, notify?.stateKey ?? '', i.episode),
      labels: i.labels,
      annotations: i.annotations,
      value: i.value,
      starts_at: iso(i.firedAt ?? i.activeSince ?? now),
      ends_at: notify?.status === 'resolved' ? nowIso : null,
      created_at: nowIso,
    }));
  if (events.length > 0) {
    // ON CONFLICT: the same change can never be queued twice, whoever evaluates.
    await pgExec(
      client,
      `INSERT INTO alert_events (project_id, rule_name, fingerprint, kind, status, severity, episode, dedup_key, labels, annotations, value, starts_at, ends_at, created_at)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(project_id text, rule_name text, fingerprint text, kind text, status text,
         severity text, episode integer, dedup_key text, labels jsonb, annotations jsonb, value double precision,
         starts_at timestamptz, ends_at timestamptz, created_at timestamptz)
       ON CONFLICT (project_id, dedup_key) DO NOTHING`,
      [JSON.stringify(events)],
    );
  }
  return { transitions: hist.length, events: events.length };
}
