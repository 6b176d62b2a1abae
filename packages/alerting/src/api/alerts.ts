import { z } from 'zod';
import { NotFoundError, pgExec, pgMaybeOne, pgRows, withTransaction, type Queryable } from '@tidemark/core';
import type { Pool } from 'pg';
import { loadMutes } from '../notify/mute';
import { ruleNameSchema, SEVERITIES } from '../rules/schema';
import { bigintColumn, kindColumn, severityColumn, stateColumn, stringMapColumn } from '../state/columns';
import { instanceRow } from '../state/store';
import type { AlertState, InstanceKind } from '../state/types';
import { isoOrNull } from './parse';

/**
 * Active alerts, their acknowledgement, and the state history: the alert
 * state as the API reads it. Every query is scoped by the caller's project.
 */

export const listActiveAlertsInput = z.strictObject({
  states: z.array(z.enum(['pending', 'firing', 'recovering'])).default(['pending', 'firing', 'recovering']),
  rule: ruleNameSchema.optional(),
  severity: z.enum(SEVERITIES).optional(),
  limit: z.number().int().min(1).max(5000).default(500),
});
export const historyInput = z.strictObject({
  rule: ruleNameSchema.optional(),
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  /** Entries older than this id (paging, newest first). */
  before_id: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(5000).default(200),
});
export const acknowledgeInput = z.strictObject({
  rule: ruleNameSchema,
  fingerprint: z.string().regex(/^[0-9a-f]{32}$/, 'must be an alert fingerprint'),
  by: z.string().trim().min(1, 'name who acknowledges').max(200),
  comment: z.string().max(2000).default(''),
});

export interface ActiveAlert {
  rule: string;
  fingerprint: string;
  kind: InstanceKind;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState;
  severity: string;
  value: number | null;
  episode: number;
  activeSince: string | null;
  firedAt: string | null;
  lastEvalAt: string;
  lastSentAt: string | null;
  acknowledged: { at: string; by: string; comment: string } | null;
  /** "silence <id>" / "maintenance <name>" while notifications are muted. */
  mutedBy: string | null;
}

export interface HistoryEntry {
  id: number;
  rule: string;
  fingerprint: string;
  kind: string;
  labels: Record<string, string>;
  from: string;
  to: string;
  severity: string;
  value: number | null;
  episode: number;
  at: string;
  detail: string | null;
}

const LIST_ACTIVE = {
  name: 'listActiveAlerts',
  sql: `SELECT rule_name, fingerprint, kind, labels, annotations, state, severity, value, episode, active_since, fired_at, last_eval_at, last_sent_at,
              acknowledged_at, acknowledged_by, ack_comment
       FROM alert_instances
       WHERE project_id = $1 AND state = ANY($2::text[]) AND ($3::text IS NULL OR rule_name = $3) AND ($4::text IS NULL OR severity = $4)
       ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'recovering' THEN 1 ELSE 2 END, severity DESC, active_since, rule_name, fingerprint
       LIMIT $5`,
  row: instanceRow
    .pick({
      fingerprint: true,
      kind: true,
      labels: true,
      annotations: true,
      state: true,
      severity: true,
      value: true,
      episode: true,
      active_since: true,
      fired_at: true,
      last_eval_at: true,
      last_sent_at: true,
      acknowledged_at: true,
      acknowledged_by: true,
      ack_comment: true,
    })
    .extend({ rule_name: z.string() }),
};

export async function listActiveAlerts(db: Queryable, projectId: string, q: z.output<typeof listActiveAlertsInput>, now: number): Promise<ActiveAlert[]> {
  const rows = await pgRows(db, LIST_ACTIVE, [projectId, q.states, q.rule ?? null, q.severity ?? null, q.limit]);
  const mutes = await loadMutes(db, projectId, now);
  return rows.map((r) => ({
    rule: r.rule_name,
    fingerprint: r.fingerprint,
    kind: r.kind,
    labels: r.labels,
    annotations: r.annotations,
    state: r.state,
    severity: r.severity,
    value: r.value,
    episode: r.episode,
    activeSince: isoOrNull(r.active_since),
    firedAt: isoOrNull(r.fired_at),
    lastEvalAt: r.last_eval_at.toISOString(),
    lastSentAt: isoOrNull(r.last_sent_at),
    // acknowledged_by is set with acknowledged_at (one UPDATE writes both).
    acknowledged: r.acknowledged_at ? { at: r.acknowledged_at.toISOString(), by: r.acknowledged_by ?? '', comment: r.ack_comment ?? '' } : null,
    mutedBy: mutes.mutedBy(r.labels),
  }));
}

const HISTORY = {
  name: 'alertHistory',
  sql: `SELECT id, rule_name, fingerprint, kind, labels, from_state, to_state, severity, value, episode, at, detail FROM alert_history
       WHERE project_id = $1 AND ($2::text IS NULL OR rule_name = $2) AND ($3::text IS NULL OR fingerprint = $3)
         AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5) AND ($6::bigint IS NULL OR id < $6)
       ORDER BY id DESC LIMIT $7`,
  row: z.object({
    id: bigintColumn,
    rule_name: z.string(),
    fingerprint: z.string(),
    kind: z.string(),
    labels: stringMapColumn,
    from_state: z.string(),
    to_state: z.string(),
    severity: z.string(),
    value: z.number().nullable(),
    episode: z.number(),
    at: z.date(),
    detail: z.string().nullable(),
  }),
};

export async function history(db: Queryable, projectId: string, q: z.output<typeof historyInput>): Promise<HistoryEntry[]> {
  const rows = await pgRows(db, HISTORY, [
    projectId,
    q.rule ?? null,
    q.fingerprint ?? null,
    q.from?.toISOString() ?? null,
    q.to?.toISOString() ?? null,
    q.before_id ?? null,
    q.limit,
  ]);
  return rows.map((r) => ({
    id: Number(r.id),
    rule: r.rule_name,
    fingerprint: r.fingerprint,
    kind: r.kind,
    labels: r.labels,
    from: r.from_state,
    to: r.to_state,
    severity: r.severity,
    value: r.value,
    episode: r.episode,
    at: r.at.toISOString(),
    detail: r.detail,
  }));
}

const ACKNOWLEDGE = {
  name: 'acknowledgeAlert',
  sql: `UPDATE alert_instances SET acknowledged_at = $4, acknowledged_by = $5, ack_comment = $6, updated_at = $4
         WHERE project_id = $1 AND rule_name = $2 AND fingerprint = $3 AND state IN ('pending', 'firing', 'recovering')
         RETURNING kind, labels, state, severity, value, episode`,
  row: z.object({ kind: kindColumn, labels: stringMapColumn, state: stateColumn, severity: severityColumn, value: z.number().nullable(), episode: z.number() }),
};

/**
 * Marks an active alert acknowledged and writes the history row, in one
 * transaction. @throws NotFoundError when no such alert is active.
 */
export async function acknowledge(pool: Pool, projectId: string, q: z.output<typeof acknowledgeInput>, now: number): Promise<void> {
  const nowIso = new Date(now).toISOString();
  await withTransaction(pool, async (client) => {
    const r = await pgMaybeOne(client, ACKNOWLEDGE, [projectId, q.rule, q.fingerprint, nowIso, q.by, q.comment]);
    if (!r) throw new NotFoundError(`no active alert ${q.rule}/${q.fingerprint} in project ${projectId}`);
    await pgExec(
      client,
      `INSERT INTO alert_history (project_id, rule_name, fingerprint, kind, labels, from_state, to_state, severity, value, episode, at, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11)`,
      [
        projectId,
        q.rule,
        q.fingerprint,
        r.kind,
        JSON.stringify(r.labels),
        r.state,
        r.severity,
        r.value,
        r.episode,
        nowIso,
        `acknowledged by ${q.by}${q.comment ? `: ${q.comment}` : ''}`,
      ],
    );
  });
}
