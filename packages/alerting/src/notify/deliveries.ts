import { z } from 'zod';
import { pgExec, pgMaybeOne, pgOne, pgRows, type Queryable } from '@tidemark/core';
import type { SendResult } from '../channels';
import { bigintColumn } from '../state/columns';
import type { NotificationPayload } from './records';

/**
 * The sender's side of alert_notifications: claiming due deliveries with a
 * lease and moving them to their next state. Every state change after the
 * claim is guarded by `status = 'sending' AND lease_owner = <owner>` (except
 * a successful send, which is final whoever holds the row), so a replica
 * whose lease was taken over changes nothing.
 */

/** Payloads are written by insertNotification from a typed value; the row schema checks only that one is an object. */
const payloadColumn = z.custom<NotificationPayload>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'notification payload must be an object');

const deliveryRow = z.object({
  id: bigintColumn,
  project_id: z.string(),
  group_key: z.string(),
  channel: z.string(),
  channel_type: z.string(),
  recipient: z.string().nullable(),
  idempotency_key: z.string(),
  payload: payloadColumn,
  attempts: z.number(),
  created_at: z.date(),
});
export type DeliveryRow = z.output<typeof deliveryRow>;

/**
 * A receiver's queue: deliveries of one project to one channel and recipient.
 * Only the oldest unfinished one (pending or sending) of a queue may be
 * claimed; test sends are outside the queues.
 */
const RECEIVER_QUEUE_HEAD = `NOT EXISTS (SELECT 1 FROM alert_notifications e
  WHERE e.project_id = c.project_id AND e.channel = c.channel AND COALESCE(e.recipient, '') = COALESCE(c.recipient, '')
    AND e.status IN ('pending', 'sending') AND e.id < c.id AND NOT e.is_test)`;

const CLAIM = {
  name: 'claimDueDeliveries',
  sql: `UPDATE alert_notifications n SET status = 'sending', lease_owner = $1, lease_until = $2, attempts = n.attempts + 1
       FROM (SELECT c.id FROM alert_notifications c
             WHERE ((c.status = 'pending' AND c.next_attempt_at <= $3) OR (c.status = 'sending' AND c.lease_until < $3))
               AND NOT (c.id = ANY($4::bigint[]))
               AND NOT ((c.project_id || '/' || c.channel) = ANY($5::text[]))
               AND (c.is_test OR ${RECEIVER_QUEUE_HEAD})
             ORDER BY c.next_attempt_at, c.id LIMIT $6 FOR UPDATE SKIP LOCKED) d
       WHERE n.id = d.id
       RETURNING n.id, n.project_id, n.group_key, n.channel, n.channel_type, n.recipient, n.idempotency_key, n.payload, n.attempts, n.created_at`,
  row: deliveryRow,
};

/**
 * Leases up to `limit` due deliveries (pending and due, or sending with an
 * expired lease), each the head of its receiver queue, skipping those in
 * flight here and channels (`project/channel`) at their concurrency limit.
 */
export async function claimDue(
  db: Queryable,
  c: { owner: string; now: number; leaseMs: number; inFlight: string[]; saturated: string[]; limit: number },
): Promise<DeliveryRow[]> {
  return pgRows(db, CLAIM, [c.owner, new Date(c.now + c.leaseMs).toISOString(), new Date(c.now).toISOString(), c.inFlight, c.saturated, c.limit]);
}

const LATER_IN_GROUP = {
  name: 'laterInGroup',
  sql: `SELECT EXISTS (SELECT 1 FROM alert_notifications WHERE project_id = $1 AND channel = $2 AND COALESCE(recipient, '') = $3 AND group_key = $4
         AND id > $5 AND status IN ('pending', 'sending') AND NOT is_test) AS later`,
  row: z.object({ later: z.boolean() }),
};

/** A later notification of the same group waits in the same receiver queue. */
export async function hasLaterInGroup(db: Queryable, d: DeliveryRow): Promise<boolean> {
  return (await pgOne(db, LATER_IN_GROUP, [d.project_id, d.channel, d.recipient ?? '', d.group_key, d.id])).later;
}

export async function markSuperseded(db: Queryable, id: string, owner: string): Promise<void> {
  await pgExec(
    db,
    `UPDATE alert_notifications SET status = 'superseded', lease_owner = NULL, lease_until = NULL, last_error = 'superseded by a later notification of the group'
     WHERE id = $1 AND status = 'sending' AND lease_owner = $2`,
    [id, owner],
  );
}

const MARK_SENT = {
  name: 'markSent',
  sql: `UPDATE alert_notifications SET
           status = CASE WHEN provider_status IN ('failed', 'undelivered', 'canceled') THEN 'failed'
                         WHEN $3::text IS NOT NULL THEN 'partial'
                         WHEN provider_status IN ('delivered', 'read') THEN 'delivered' ELSE 'sent' END,
           last_error = CASE WHEN provider_status IN ('failed', 'undelivered', 'canceled') THEN provider_error ELSE $3 END,
           sent_at = $2, lease_owner = NULL, lease_until = NULL, provider_id = COALESCE($4, provider_id), recipient_results = $5
         WHERE id = $1 RETURNING status`,
  row: z.object({ status: z.string() }),
};

/**
 * Records a send the receiver accepted; returns the delivery's final status.
 * A partial acceptance (some recipients refused) is recorded as such; a
 * provider verdict that arrived before this record (a status callback racing
 * the send) is applied here.
 */
export async function markSent(db: Queryable, id: string, at: number, r: SendResult): Promise<string> {
  const row = await pgMaybeOne(db, MARK_SENT, [
    id,
    new Date(at).toISOString(),
    r.partial ?? null,
    r.providerId ?? null,
    r.recipientResults ? JSON.stringify(r.recipientResults) : null,
  ]);
  return row?.status ?? 'sent';
}

/** Notes on the alert instances of a sent notification when they were last sent. */
export async function markInstancesSent(db: Queryable, projectId: string, at: number, alerts: { rule: string; fingerprint: string }[]): Promise<void> {
  await pgExec(
    db,
    `UPDATE alert_instances SET last_sent_at = $2
     WHERE project_id = $1 AND (rule_name, fingerprint) IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
    [projectId, new Date(at).toISOString(), alerts.map((a) => a.rule), alerts.map((a) => a.fingerprint)],
  );
}

/** Makes every pending delivery of a receiver queue due at `at` (its backoff is over: the receiver answers again). */
export async function resetQueueBackoff(db: Queryable, d: DeliveryRow, at: number): Promise<void> {
  await pgExec(
    db,
    `UPDATE alert_notifications SET next_attempt_at = $4
     WHERE project_id = $1 AND channel = $2 AND COALESCE(recipient, '') = $3 AND status = 'pending' AND next_attempt_at > $4 AND NOT is_test`,
    [d.project_id, d.channel, d.recipient ?? '', new Date(at).toISOString()],
  );
}

/** Puts a failed try back in the queue, due at `nextAt`. */
export async function reschedule(db: Queryable, id: string, owner: string, nextAt: number, error: string): Promise<void> {
  await pgExec(
    db,
    `UPDATE alert_notifications SET status = 'pending', next_attempt_at = $3, lease_owner = NULL, lease_until = NULL, last_error = $4
     WHERE id = $1 AND status = 'sending' AND lease_owner = $2`,
    [id, owner, new Date(nextAt).toISOString(), error.slice(0, 2000)],
  );
}

export async function markFailed(db: Queryable, id: string, owner: string, error: string): Promise<void> {
  await pgExec(
    db,
    `UPDATE alert_notifications SET status = 'failed', lease_owner = NULL, lease_until = NULL, last_error = $3
     WHERE id = $1 AND status = 'sending' AND lease_owner = $2`,
    [id, owner, error.slice(0, 2000)],
  );
}
