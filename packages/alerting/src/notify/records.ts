import { pgOne, pgExec, pgMaybeOne, type Queryable } from '@tidemark/core';
import { z } from 'zod';
import type { Notification } from '../channels';

/**
 * The one writer of delivery records: every row of alert_notifications and
 * alert_notification_attempts is inserted here, whether the dispatcher
 * queues it, the sender records a try, or the API's test send does both.
 *
 * Invariants: an idempotency key names one delivery per project (a second
 * insert of the same key is a no-op, so a flush replayed after a crash
 * queues nothing twice); attempts of one delivery are numbered 1, 2, ... in
 * the order they are inserted.
 */

/** What a notification row stores as its payload: the notification without its row identity. */
export type NotificationPayload = Omit<Notification, 'id' | 'idempotencyKey' | 'recipient'>;

export interface NewNotification {
  projectId: string;
  groupKey: string;
  channel: string;
  channelType: string;
  recipient: string | null;
  idempotencyKey: string;
  dedupKeys: string[];
  payload: NotificationPayload;
  /** 'pending' for the outbox; a test send is inserted 'sending', leased to its sender. */
  status: 'pending' | 'sending';
  /** Its creation time and first due time (ISO). */
  at: string;
  isTest: boolean;
  leaseOwner: string | null;
}

const idRow = z.object({ id: z.string() });

/** Inserts a delivery; returns its id, or undefined when one with the same idempotency key exists. */
export async function insertNotification(db: Queryable, n: NewNotification): Promise<number | undefined> {
  const row = await pgMaybeOne(
    db,
    {
      name: 'insertNotification',
      sql: `INSERT INTO alert_notifications (project_id, group_key, channel, channel_type, recipient, idempotency_key, dedup_keys, payload, status, next_attempt_at, created_at, is_test, lease_owner)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) ON CONFLICT (project_id, idempotency_key) DO NOTHING RETURNING id`,
      row: idRow,
    },
    [
      n.projectId,
      n.groupKey,
      n.channel,
      n.channelType,
      n.recipient,
      n.idempotencyKey,
      n.dedupKeys,
      JSON.stringify(n.payload),
      n.status,
      n.at,
      n.isTest,
      n.leaseOwner,
    ],
  );
  return row ? Number(row.id) : undefined;
}

export interface NewAttempt {
  notificationId: number | string;
  projectId: string;
  replica: string;
  /** ms since the epoch. */
  startedAt: number;
  durationMs: number;
  /** 'started' marks a try in progress; the sender completes it with finishAttempt. */
  outcome: 'started' | 'ok' | 'retriable' | 'permanent';
  httpStatus: number | null;
  error: string | null;
}

/** Inserts the next attempt of a delivery; returns the attempt row's id. */
export async function insertAttempt(db: Queryable, a: NewAttempt): Promise<string> {
  const row = await pgOne(
    db,
    {
      name: 'insertAttempt',
      sql: `INSERT INTO alert_notification_attempts (notification_id, project_id, attempt, replica, started_at, duration_ms, outcome, http_status, error)
            VALUES ($1, $2, (SELECT COALESCE(max(attempt), 0) + 1 FROM alert_notification_attempts WHERE notification_id = $1), $3, $4, $5, $6, $7, $8) RETURNING id`,
      row: idRow,
    },
    [a.notificationId, a.projectId, a.replica, new Date(a.startedAt).toISOString(), a.durationMs, a.outcome, a.httpStatus, a.error],
  );
  return row.id;
}

/** Completes a 'started' attempt with its outcome. */
export async function finishAttempt(
  db: Queryable,
  attemptId: string,
  a: { durationMs: number; outcome: string; httpStatus: number | null; error: string | null; finishedAt: number },
): Promise<void> {
  await pgExec(db, `UPDATE alert_notification_attempts SET duration_ms = $2, outcome = $3, http_status = $4, error = $5, finished_at = $6 WHERE id = $1`, [
    attemptId,
    a.durationMs,
    a.outcome,
    a.httpStatus,
    a.error,
    new Date(a.finishedAt).toISOString(),
  ]);
}
