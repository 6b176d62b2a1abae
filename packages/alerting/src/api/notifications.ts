import crypto from 'node:crypto';
import { z } from 'zod';
import { InternalError, NotFoundError, pgExec, pgRows, type Queryable } from '@tidemark/core';
import { recipientsOf } from '../channels';
import { loadPolicy } from '../notify/policy';
import { insertAttempt, insertNotification, type NotificationPayload } from '../notify/records';
import type { Sender } from '../notify/sender';
import { bigintColumn } from '../state/columns';
import { isoOrNull } from './parse';

/**
 * Deliveries as the API shows them, and the test send: one notification to
 * one channel now, through the engine's send path (retries, attempt
 * records) but outside the outbox queues.
 */

export const listNotificationsInput = z.strictObject({
  status: z.enum(['pending', 'sending', 'sent', 'partial', 'delivered', 'failed', 'superseded']).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export const testSendInput = z.strictObject({
  channel: z.string().min(1),
  message: z.string().max(1000).default('This is a test notification from Tidemark alerting.'),
});

/** Lease owner and attempt replica of test sends. */
export const TEST_SEND_OWNER = 'api/test-send';

export interface NotificationRecord {
  id: number;
  channel: string;
  channelType: string;
  recipient: string | null;
  idempotencyKey: string;
  dedupKeys: string[];
  status: string;
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  nextAttemptAt: string;
  lastError: string | null;
  isTest: boolean;
  payload: unknown;
  /** The provider's message id and its last asynchronous verdict (Twilio StatusCallback), when reported. */
  providerId: string | null;
  providerStatus: string | null;
  providerError: string | null;
  /** Per-recipient results (email): address → accepted, server reply. */
  recipientResults: Record<string, { accepted: boolean; response?: string }> | null;
}

export interface AttemptRecord {
  attempt: number;
  replica: string;
  startedAt: string;
  durationMs: number;
  outcome: string;
  httpStatus: number | null;
  error: string | null;
}

const LIST = {
  name: 'listNotifications',
  sql: `SELECT id, channel, channel_type, recipient, idempotency_key, dedup_keys, status, attempts, created_at, sent_at, next_attempt_at, last_error, is_test, payload,
              provider_id, provider_status, provider_error, recipient_results
       FROM alert_notifications WHERE project_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY id DESC LIMIT $3`,
  row: z.object({
    id: bigintColumn,
    channel: z.string(),
    channel_type: z.string(),
    recipient: z.string().nullable(),
    idempotency_key: z.string(),
    dedup_keys: z.array(z.string()),
    status: z.string(),
    attempts: z.number(),
    created_at: z.date(),
    sent_at: z.date().nullable(),
    next_attempt_at: z.date(),
    last_error: z.string().nullable(),
    is_test: z.boolean(),
    payload: z.unknown(),
    provider_id: z.string().nullable(),
    provider_status: z.string().nullable(),
    provider_error: z.string().nullable(),
    recipient_results: z.record(z.string(), z.object({ accepted: z.boolean(), response: z.string().optional() })).nullable(),
  }),
};

export async function listNotifications(db: Queryable, projectId: string, q: z.output<typeof listNotificationsInput>): Promise<NotificationRecord[]> {
  const rows = await pgRows(db, LIST, [projectId, q.status ?? null, q.limit]);
  return rows.map((r) => ({
    id: Number(r.id),
    channel: r.channel,
    channelType: r.channel_type,
    recipient: r.recipient,
    idempotencyKey: r.idempotency_key,
    dedupKeys: r.dedup_keys,
    status: r.status,
    attempts: r.attempts,
    createdAt: r.created_at.toISOString(),
    sentAt: isoOrNull(r.sent_at),
    nextAttemptAt: r.next_attempt_at.toISOString(),
    lastError: r.last_error,
    isTest: r.is_test,
    payload: r.payload,
    providerId: r.provider_id,
    providerStatus: r.provider_status,
    providerError: r.provider_error,
    recipientResults: r.recipient_results,
  }));
}

const ATTEMPTS = {
  name: 'listAttempts',
  sql: `SELECT attempt, replica, started_at, duration_ms, outcome, http_status, error FROM alert_notification_attempts
       WHERE project_id = $1 AND notification_id = $2 ORDER BY attempt`,
  row: z.object({
    attempt: z.number(),
    replica: z.string(),
    started_at: z.date(),
    duration_ms: z.number(),
    outcome: z.string(),
    http_status: z.number().nullable(),
    error: z.string().nullable(),
  }),
};

/** Every send attempt of one notification, in order. */
export async function listAttempts(db: Queryable, projectId: string, notificationId: number): Promise<AttemptRecord[]> {
  const rows = await pgRows(db, ATTEMPTS, [projectId, notificationId]);
  return rows.map((r) => ({
    attempt: r.attempt,
    replica: r.replica,
    startedAt: r.started_at.toISOString(),
    durationMs: r.duration_ms,
    outcome: r.outcome,
    httpStatus: r.http_status,
    error: r.error,
  }));
}

/** The notification a test send delivers: one INFO alert named TidemarkTest carrying `message`. */
function testPayload(projectId: string, message: string, dedupKey: string, now: number): NotificationPayload {
  const at = new Date(now).toISOString();
  const labels = { alertname: 'TidemarkTest', severity: 'INFO' };
  return {
    projectId,
    groupKey: 'test',
    groupLabels: { alertname: 'TidemarkTest' },
    status: 'firing',
    severity: 'INFO',
    alerts: [
      {
        rule: 'TidemarkTest',
        fingerprint: '0'.repeat(32),
        kind: 'alert',
        status: 'firing',
        severity: 'INFO',
        labels,
        annotations: { summary: message },
        value: null,
        startsAt: at,
        endsAt: null,
        dedupKey,
        isNew: true,
        acknowledged: false,
      },
    ],
    firingCount: 1,
    resolvedCount: 0,
    omitted: 0,
    commonLabels: { ...labels },
    commonAnnotations: { summary: message },
    isRepeat: false,
    isTest: true,
    createdAt: at,
  };
}

/**
 * Sends a test notification to one channel now; returns the outcome and
 * every attempt. The delivery is recorded (is_test, leased to the test
 * sender, so no replica's sender claims it) like any other.
 */
export async function testSend(
  deps: { db: Queryable; sender: Sender; now: () => number },
  projectId: string,
  q: z.output<typeof testSendInput>,
): Promise<{ ok: boolean; notificationId: number; error: string | null; attempts: AttemptRecord[] }> {
  const policy = await loadPolicy(deps.db, projectId);
  const config = policy.channels.get(q.channel);
  if (!config) throw new NotFoundError(`no channel named "${q.channel}" in project ${projectId}; channels: ${[...policy.channels.keys()].join(', ')}`);
  const now = deps.now();
  const key = `test-${crypto.randomUUID()}`;
  const payload = testPayload(projectId, q.message, key, now);
  // A fan-out channel (SMS, WhatsApp) is tested on its first recipient.
  const recipient = recipientsOf(config)[0];
  const id = await insertNotification(deps.db, {
    projectId,
    groupKey: 'test',
    channel: config.name,
    channelType: config.type,
    recipient: recipient ?? null,
    idempotencyKey: key,
    dedupKeys: [key],
    payload,
    status: 'sending',
    at: new Date(now).toISOString(),
    isTest: true,
    leaseOwner: TEST_SEND_OWNER,
  });
  // The key is a fresh UUID: finding it taken is a bug.
  if (id === undefined) throw new InternalError(`test send: idempotency key ${key} already exists`);
  const out = await deps.sender.sendRecorded({ ...payload, id, idempotencyKey: key, ...(recipient ? { recipient } : {}) }, config, async (a) => {
    await insertAttempt(deps.db, { ...a, notificationId: id, projectId, replica: TEST_SEND_OWNER });
  });
  await pgExec(deps.db, `UPDATE alert_notifications SET status = $2, sent_at = $3, last_error = $4, lease_owner = NULL, attempts = 1 WHERE id = $1`, [
    id,
    out.ok ? (out.result.partial ? 'partial' : 'sent') : 'failed',
    out.ok ? new Date(deps.now()).toISOString() : null,
    out.ok ? (out.result.partial ?? null) : out.message,
  ]);
  return { ok: out.ok, notificationId: id, error: out.ok ? null : out.message, attempts: await listAttempts(deps.db, projectId, id) };
}
